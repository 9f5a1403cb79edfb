import { BlockList } from "node:net";
import { createConnection } from "mysql2/promise";
import type { ResultSetHeader, RowDataPacket } from "mysql2/promise";
import type { StartedMySqlContainer } from "@testcontainers/mysql";
import { describe, expect, test } from "vitest";
import { LabContainer, labMySql, nameForRun, startForFile } from "../helpers/lab/containers.ts";
import { startEarly } from "../helpers/lab/start-early.ts";
import { prettyName, typeAtProgramPrompt, typeAtShellPrompt } from "../helpers/lab/terminal.ts";
import { networkFixture } from "../helpers/lab/network.ts";
import { dockerApi, labEngine } from "../helpers/lab/engine.ts";
import { expectedOs, labImage, labPlatform } from "../helpers/lab/images.ts";
import { newSecret } from "../helpers/lab/secrets.ts";

const image = labImage("mysql:5.7");
const PLATFORM = labPlatform();
const rootPassword = newSecret();
const userPassword = newSecret();
const SEED_SQL =
  "CREATE TABLE seeded (id INT PRIMARY KEY, note VARCHAR(40));\nINSERT INTO seeded VALUES (1, 'from initdb');\n";

const BOOK_PASSWORD = "my-secret-pw";
// mysql 5.7 sizes its buffers by the open-files limit, which is huge on many hosts; sandboxes cap it lower (20000 here).
const OPEN_FILES = 16_384;

const lab = test
  .extend("network", { scope: "file" }, networkFixture)
  .extend("mysql", { scope: "file" }, async ({ network }, hooks) =>
    startForFile(
      labMySql(image.ref)
        .withPlatform(PLATFORM)
        .withName(nameForRun("some-mysql"))
        .withNetworkMode(network.name)
        .withNetworkAliases("some-mysql")
        .withRootPassword(rootPassword)
        .withDatabase("labs")
        .withUsername("lab")
        .withUserPassword(userPassword)
        .withUlimits({ nofile: { soft: OPEN_FILES, hard: OPEN_FILES } })
        .withCopyContentToContainer([{ content: SEED_SQL, target: "/docker-entrypoint-initdb.d/01-seed.sql" }]),
      hooks,
    ),
  )
  .extend("client", { scope: "file", auto: true }, async ({ network }, hooks) =>
    startEarly(
      new LabContainer(image.ref)
        .withPlatform(PLATFORM)
        .withNetworkMode(network.name)
        .withCommand(["sleep", "infinity"]),
      hooks,
    ),
  );

function connectAs(mysql: StartedMySqlContainer, user: string, password: string, database?: string) {
  return createConnection({ host: mysql.getHost(), port: mysql.getPort(), user, password, database });
}

function inSubnet(address: string, cidr: string): boolean {
  const [base = "", bits = "32"] = cidr.split("/");
  const subnet = new BlockList();
  subnet.addSubnet(base, Number(bits), "ipv4");
  return subnet.check(address, "ipv4");
}

describe("Lab 3-1: MySQL 5.7 for a team's SQL tests", { timeout: 180_000 }, () => {
  lab("docker pull --platform linux/amd64 mysql:5.7", async ({ mysql, annotate }) => {
    const docker = await dockerApi();
    const container = await docker.getContainer(mysql.getId()).inspect();
    const pulled = await docker.getImage(container.Image).inspect();
    const [os, architecture] = PLATFORM.split("/");
    expect({ os: pulled.Os, architecture: pulled.Architecture }).toEqual({ os, architecture });
    const expectedMachine = { amd64: "x86_64", arm64: "aarch64" }[architecture!] ?? architecture;
    const uname = await mysql.exec(["uname", "-m"]);
    expect(uname).toMatchObject({ exitCode: 0, stdout: `${expectedMachine}\n` });
    const engine = labEngine();
    const machine = uname.stdout.trim();
    const emulated = machine !== engine.machine;
    await annotate(
      `host ${process.arch}, engine ${engine.os}/${engine.arch} (${engine.machine}), image ${pulled.Os}/${pulled.Architecture}, ` +
        `container uname -m ${machine}, emulation: ${emulated ? `yes (${machine} code on a ${engine.machine} engine)` : "no"}`,
    );
  });

  lab("docker run --name some-mysql -e MYSQL_ROOT_PASSWORD=... -d mysql:5.7", async ({ mysql }) => {
    const info = await (await dockerApi()).getContainer(mysql.getId()).inspect();
    expect(info.Name).toBe(`/${nameForRun("some-mysql")}`);
    expect(info.State).toMatchObject({ Running: true });
    const generated = info.Config.Env.includes(`MYSQL_ROOT_PASSWORD=${rootPassword}`);
    expect(generated, "the container got this run's generated root password").toBe(true);
    // Podman names a limit the kernel's way (RLIMIT_NOFILE) and lists the process limit it adds of its own beside it.
    const ulimits = (info.HostConfig.Ulimits ?? []).map(({ Name, Soft, Hard }) => ({
      Name: Name?.replace(/^RLIMIT_/, "").toLowerCase(),
      Soft,
      Hard,
    }));
    expect(ulimits).toContainEqual({ Name: "nofile", Soft: OPEN_FILES, Hard: OPEN_FILES });
    const limits = await mysql.exec(["sh", "-c", "grep 'Max open files' /proc/1/limits"]);
    expect(limits.stdout.split(/\s+/).slice(3, 5)).toEqual([String(OPEN_FILES), String(OPEN_FILES)]);
    await expect(connectAs(mysql, "root", BOOK_PASSWORD), "the book's literal password").rejects.toMatchObject({
      code: "ER_ACCESS_DENIED_ERROR",
    });
    const connecting = connectAs(mysql, "root", rootPassword);
    await expect(connecting, "root with this run's generated password").resolves.toBeDefined();
    await using connection = await connecting;
    const [rows] = await connection.query<RowDataPacket[]>("SELECT 1 AS res");
    expect(rows).toEqual([{ res: 1 }]);
  });

  lab("docker exec -it some-mysql bash, then cat /etc/os-release", async ({ mysql, annotate }) => {
    const screen = await typeAtShellPrompt(mysql.getId(), "cat /etc/os-release");
    const os = expectedOs(image);
    expect(prettyName(screen)).toBe(os.name);
    await annotate(`typed at bash's prompt in some-mysql: ${prettyName(screen)}, as ${os.declaredBy} says`);
  });

  lab("mysql -u root -p (inside the container)", async ({ mysql, annotate }) => {
    const signIn = (password: string) =>
      typeAtProgramPrompt(mysql.getId(), ["mysql", "-u", "root", "-p"], {
        asks: /Enter password: $/,
        secret: password,
        next: /> $/,
        then: "SELECT CURRENT_USER();\nexit\n",
      });
    const right = await signIn(rootPassword);
    expect(right, "the right password typed at the prompt").toMatchObject({ exitCode: 0, echoed: false });
    expect(right.screen).toMatch(/^\| root@localhost +\|$/m);
    const wrong = await signIn(newSecret());
    expect(wrong, "a wrong password typed at the prompt").toMatchObject({ exitCode: 1, echoed: false });
    expect(wrong.screen).toContain("Access denied for user 'root'@'localhost' (using password: YES)");
    await annotate(
      "typed at mysql's 'Enter password:' on a TTY, not echoed: the right one signs in as root@localhost, " +
        `a wrong one gets "${wrong.screen.match(/ERROR 1045[^\n]*/)?.[0]}"`,
    );
  });

  lab("SQL from the host over the published port (mysql2)", async ({ mysql, annotate }) => {
    await using connection = await connectAs(mysql, "lab", userPassword, "labs");
    const [[whoami]] = await connection.query<RowDataPacket[]>("SELECT CURRENT_USER() AS user, DATABASE() AS db");
    expect(whoami).toEqual({ user: "lab@%", db: "labs" });
    const [seeded] = await connection.query<RowDataPacket[]>("SELECT id, note FROM seeded");
    expect(seeded).toEqual([{ id: 1, note: "from initdb" }]);

    await connection.query("CREATE TABLE team (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), role VARCHAR(20))");
    const [inserted] = await connection.query<ResultSetHeader>(
      "INSERT INTO team (name, role) VALUES ('ana', 'dev'), ('bo', 'qa'), ('cy', 'ops')",
    );
    expect(inserted.affectedRows).toBe(3);
    const [updated] = await connection.query<ResultSetHeader>("UPDATE team SET role = 'dev' WHERE name = 'bo'");
    expect(updated).toMatchObject({ affectedRows: 1, changedRows: 1 });
    const [deleted] = await connection.query<ResultSetHeader>("DELETE FROM team WHERE name = 'cy'");
    expect(deleted.affectedRows).toBe(1);
    const [team] = await connection.query<RowDataPacket[]>("SELECT id, name, role FROM team ORDER BY id");
    expect(team).toEqual([
      { id: 1, name: "ana", role: "dev" },
      { id: 2, name: "bo", role: "dev" },
    ]);
    const [[count]] = await connection.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM team WHERE role = 'dev'");
    expect(count).toEqual({ n: 2 });

    await expect(connection.query("SELECT User FROM mysql.user")).rejects.toMatchObject({
      code: expect.stringMatching(/^ER_(TABLEACCESS|DBACCESS)_DENIED_ERROR$/),
    });
    await annotate(`lab@% in labs: 3 inserted, 1 updated, 1 deleted, ${team.length} left; mysql.* is denied`);
  });

  lab("docker inspect some-mysql | grep IPAddress", async ({ mysql, network, client: second, annotate }) => {
    const docker = await dockerApi();
    const address = (await docker.getContainer(mysql.getId()).inspect()).NetworkSettings.Networks[network.name]
      ?.IPAddress;
    const subnet = (await docker.getNetwork(network.id).inspect()).IPAM?.Config?.[0]?.Subnet;
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    expect(inSubnet(address!, subnet!), `${address} lies in ${subnet}`).toBe(true);

    const client = await second.started;
    for (const host of [address!, "some-mysql"]) {
      const query = await client.exec(
        ["mysql", "-h", host, "-ulab", "--batch", "-N", "labs", "-e", "SELECT note FROM seeded"],
        {
          env: { MYSQL_PWD: userPassword },
        },
      );
      expect(query, `query via ${host}`).toMatchObject({ exitCode: 0, stdout: "from initdb\n" });
    }
    await annotate(`some-mysql is ${address} in ${subnet}; reached from a second container by address and by alias`);
  });

  lab("mysql> SELECT VERSION();", async ({ mysql, annotate }) => {
    await using connection = await connectAs(mysql, "root", rootPassword);
    const [[{ version }]] = (await connection.query<RowDataPacket[]>("SELECT VERSION() AS version")) as [
      [{ version: string }],
      unknown,
    ];
    if (image.standInFor) {
      expect(version).not.toMatch(/^5\.7\./);
      expect(version).toMatch(/MariaDB/);
      await annotate(`stand-in ${image.ref} reports ${version} (not MySQL 5.7)`);
    } else {
      expect(version).toMatch(/^5\.7\./);
      await annotate(`server version ${version}`);
    }
  });
});
