import { describe, expect, it } from "vitest";
import { chromiumCandidates } from "../../helpers/lab/browser.ts";

describe("where the browser steps look for Chromium", () => {
  it("on Windows: Chromium, Chrome and Edge under %LOCALAPPDATA%, Program Files and Program Files (x86)", () => {
    const env = {
      LOCALAPPDATA: "C:\\Users\\ann\\AppData\\Local",
      ProgramFiles: "C:\\Program Files",
      "ProgramFiles(x86)": "C:\\Program Files (x86)",
    };
    expect(chromiumCandidates("win32", env, "C:\\Users\\ann")).toEqual([
      "C:\\Users\\ann\\AppData\\Local\\Chromium\\Application\\chrome.exe",
      "C:\\Users\\ann\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe",
      "C:\\Users\\ann\\AppData\\Local\\Microsoft\\Edge\\Application\\msedge.exe",
      "C:\\Program Files\\Chromium\\Application\\chrome.exe",
      "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
      "C:\\Program Files\\Microsoft\\Edge\\Application\\msedge.exe",
      "C:\\Program Files (x86)\\Chromium\\Application\\chrome.exe",
      "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe",
      "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
    ]);
  });

  it("on a Mac: /Applications, then the user's ~/Applications", () => {
    expect(chromiumCandidates("darwin", {}, "/Users/ann")).toEqual([
      "/Applications/Chromium.app/Contents/MacOS/Chromium",
      "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
      "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
      "/Users/ann/Applications/Chromium.app/Contents/MacOS/Chromium",
      "/Users/ann/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
      "/Users/ann/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    ]);
  });
});
