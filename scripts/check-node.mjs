// Plain JavaScript on purpose: it must run, and say something useful, on the Node that is too old.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  console.error(
    `container-labs needs Node >= 22.22 (testcontainers 12, vitest 5, undici 8); this is Node ${process.versions.node}. ` +
      "Install a current Node (nvm install 24, or `npm install --prefix ~/.node24 node@24` and put ~/.node24/node_modules/.bin on PATH).",
  );
  process.exit(1);
}
