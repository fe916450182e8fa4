import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { applyEditsToDocument, loadStackFile, parseStackText, renderEdits } from "../../cli/stackFile";
import { A, ALIGNED, B, COMMENTED, read, run, stackDir } from "./fixtures";

const comments = (text: string) => text.split("\n").flatMap((line) => /#.*$/.exec(line)?.[0] ?? []);

/** Lines of `b` not in `a` and lines of `a` not in `b` (a rough diff, enough to assert minimal edits). */
function changedLines(a: string, b: string): { removed: string[]; added: string[] } {
    const la = a.split("\n");
    const lb = b.split("\n");
    return { removed: la.filter((l) => !lb.includes(l)), added: lb.filter((l) => !la.includes(l)) };
}

describe("stack files (cli/stackFile.ts)", () => {
    it("renders a file with no edits byte-for-byte as it was", () => {
        for (const text of [COMMENTED, ALIGNED]) {
            assert.equal(renderEdits({ text }, []), text);
        }
    });

    it("flip keeps every comment; rollback after it restores the file but for the route to the colour it leaves", async () => {
        const dir = stackDir({ dev: COMMENTED });
        assert.equal((await run(["flip", "--stack", "dev", "--dir", dir])).code, 0);
        const flipped = read(dir, "dev");
        assert.deepEqual(comments(flipped), comments(COMMENTED));
        assert.deepEqual(changedLines(COMMENTED, flipped), {
            removed: ["    live: blue # live colour"],
            added: ["    live: green # live colour", "    previous: blue"],
        });
        assert.match(flipped, /switchyard:slots: # builds\n    blue: # blue slot\n/); // eslint-disable-line no-regex-spaces -- YAML indentation, literally
        assert.equal((await run(["rollback", "--stack", "dev", "--dir", dir])).code, 0);
        // The beta users' route to green goes with the rollback (they would stay on the failing build); every other line is as it was.
        assert.deepEqual(changedLines(COMMENTED, read(dir, "dev")), {
            removed: [
                "    routes: # partial deployment",
                "      - color: green # beta users",
                "        header: # by header",
                "          name: x-beta-user # header name",
                "          values: [alice, bob] # header values",
            ],
            added: [],
        });
    });

    it("start then rollback of the canary keeps unrelated comments; flip of a build drops the build's own comment", async () => {
        const dir = stackDir({ dev: COMMENTED.replace(/image: \S+ # green digest/, "build: ./app # green context") });
        assert.equal((await run(["flip", "--stack", "dev", "--dir", dir, "--digest", B])).code, 0);
        assert.match(
            read(dir, "dev"),
            new RegExp(
                `    green: # green slot\n      image: ${B.replace(/\./g, "\\.")}\n      schema: \\[3, 4\\] # green schema support\n`,
            ),
        );
    });

    it("keeps a hand-aligned layout: untouched lines verbatim, an edited line keeps its comment column", async () => {
        const dir = stackDir({ dev: ALIGNED });
        assert.equal((await run(["canary", "--stack", "dev", "--dir", dir, "--percent", "25"])).code, 0);
        assert.deepEqual(changedLines(ALIGNED, read(dir, "dev")), {
            removed: ["      percent: 10            # share for green"],
            added: ["      percent: 25            # share for green"],
        });
        assert.equal((await run(["rollback", "--stack", "dev", "--dir", dir])).code, 0);
        assert.deepEqual(changedLines(ALIGNED, read(dir, "dev")), {
            removed: ["    canary:", "      percent: 10            # share for green", "      stickiness: 3600       # seconds"],
            added: [],
        });
    });

    it("edits the committed stack files with a minimal diff", async () => {
        const root = path.resolve(__dirname, "../..");
        const dev = fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8");
        const prod = fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8");
        const dir = stackDir({ dev, prod });
        // prod declares database.schema, so a build going into it declares what it runs against.
        const r = await run(["start", "--stack", "prod", "--dir", dir, "--image", B, "--schema", "3,4"]);
        assert.equal(r.code, 0, r.err);
        const { removed, added } = changedLines(prod, read(dir, "prod"));
        assert.deepEqual(removed, []);
        assert.ok(added.length <= 3 && added.some((l) => l.includes(B)), added.join("\n"));
    });

    it("fills in a key whose value is empty (null), keeping its comment", () => {
        const text = "config:\n  switchyard:traffic:\n    live: blue\n    canary: # set by the release tool\n";
        const doc = parseStackText(text);
        applyEditsToDocument(doc, [{ op: "set", path: ["traffic", "canary", "percent"], value: 5 }]);
        assert.equal(
            doc.toString(),
            "config:\n  switchyard:traffic:\n    live: blue\n    canary: # set by the release tool\n      percent: 5\n",
        );
    });

    it("keeps four-space indentation and unindented sequences", () => {
        const text = `config:\n    switchyard:testAccess:\n        cidrs:\n        - 10.0.0.0/8\n    switchyard:traffic:\n        live: blue\n`;
        const file = { text };
        assert.equal(
            renderEdits(file, [{ op: "set", path: ["traffic", "live"], value: "green" }]),
            `config:\n    switchyard:testAccess:\n        cidrs:\n        - 10.0.0.0/8\n    switchyard:traffic:\n        live: green\n`,
        );
    });

    it("replaces image with build in place (same position and the comment above; the old value's own comment goes)", () => {
        const text = `config:\n  switchyard:slots:\n    green:\n      # the build\n      image: ${A} # digest of 1 May\n      schema: [3]\n`;
        const doc = parseStackText(text);
        applyEditsToDocument(doc, [{ op: "set", path: ["slots", "green", "build"], value: "./app", replaces: "image" }]);
        assert.equal(
            doc.toString(),
            "config:\n  switchyard:slots:\n    green:\n      # the build\n      build: ./app\n      schema: [ 3 ]\n",
        );
    });

    it("loads only switchyard:* keys, without the prefix", () => {
        const dir = stackDir({ dev: COMMENTED });
        const file = loadStackFile(dir, "dev");
        assert.deepEqual(Object.keys(file.raw), ["service", "slots", "traffic", "testAccess", "database"]);
    });

    it("refuses a file that is not YAML", async () => {
        const dir = stackDir({ dev: "config:\n  a: [\n" });
        const r = await run(["status", "--stack", "dev", "--dir", dir]);
        assert.equal(r.code, 1);
        assert.match(r.err, /Pulumi\.dev\.yaml is not valid YAML/);
    });
});
