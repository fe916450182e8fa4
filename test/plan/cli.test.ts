/**
 * `plan` through the release tool's entry point: the base from git in a temporary repository, a
 * base file, `--base none`, JSON and Markdown, exit 1 for hand edits that break an invariant and
 * exit 2 for bad input with the same messages as every other command.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { main } from "../../cli/main";
import * as release from "../../lib/release";
import { ConfigMap, afterStep, committed, digest, planOf } from "./helpers";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: process.env });
    return { code, out: out.join("\n"), err: err.join("\n") };
}

const git = (dir: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=plan", "-c", "user.email=plan@example.com", ...args], { cwd: dir, stdio: "pipe" });

const made: string[] = [];
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A git repository holding Pulumi.prod.yaml committed as `base`; the working copy is `now`. */
function repo(base: ConfigMap, now: ConfigMap): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-plan-"));
    made.push(dir);
    git(dir, "init", "-q");
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stringify({ config: base }));
    git(dir, "add", "Pulumi.prod.yaml");
    git(dir, "commit", "-q", "-m", "base");
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stringify({ config: now }));
    return dir;
}

const prod = committed("prod");
const started = afterStep("prod", prod, (c) => release.start(c, { image: digest("f"), schema: { versions: [3] } }));
const flipped = afterStep("prod", started, (c) => release.flip(c));

/** A copy of a config map with one `switchyard:` section changed. */
function edit(map: ConfigMap, key: string, change: (section: any) => void): ConfigMap {
    const copy = structuredClone(map);
    change(copy[`switchyard:${key}`]);
    return copy;
}

describe("plan: hand edits that break an invariant", () => {
    it("a flip that also changes service.port breaks 3 and 7 (target groups replaced)", async () => {
        const plan = await planOf(
            "prod",
            started,
            edit(flipped, "service", (s) => (s.port = 9090)),
        );
        assert.equal(plan.kind, "flip");
        assert.match(plan.violations[0], /^invariant 3: a flip may change only routing .*replace TargetGroup web-blue-tg \(port\)/);
        assert.match(
            plan.violations.at(-1)!,
            /^invariant 7: a flip must not replace or delete a target group, but it would replace TargetGroup web-blue-tg \(port\); replace TargetGroup web-green-tg \(port\)$/,
        );
        // rollback would undo the flip but not the port: only reverting the commit undoes it all.
        assert.deepEqual(plan.undo, {
            command: null,
            note:
                "no release-tool command returns the stack file exactly to the base: revert the commit (git revert); " +
                "npm run switchyard -- rollback --stack prod restores its production routing but leaves switchyard:service.port as the change made it",
        });
        const tg = plan.resources.find((r) => r.name === "web-green-tg")!;
        assert.equal(tg.source, "https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/elbv2/target_group.go");
    });

    it("a release that also changes the live colour's image breaks 4", async () => {
        const both = edit(started, "slots", (s) => (s.blue.image = digest("9")));
        const plan = await planOf("prod", prod, both);
        // Two steps in one edit, named as such (not as the nearest step, a release).
        assert.equal(plan.kind, "combined");
        assert.deepEqual(
            plan.parts.map((p) => p.kind),
            ["release", "release"],
        );
        assert.equal(
            plan.summary,
            "combined: 2 release steps in one edit (release + release): release: green (candidate) gets web@sha256:ffffffffffff (was empty); " +
                "traffic unchanged; release into the live colour: blue gets web@sha256:999999999999 (was web@sha256:000000000000) while it serves production",
        );
        assert.equal(plan.violations.length, 1, plan.violations.join("\n"));
        assert.match(
            plan.violations[0],
            /^invariant 4: a release \+ release may change only the candidate's resources, but it would update Resource web-blue-warm \(colors\[0\]\.image\); update Service web-blue-svc \(taskDefinition\); replace TaskDefinition web-blue-task \(containerDefinitions\[0\]\.image.* \(blue is live\)$/,
        );
    });

    it("a stack file that says what its base says is no change, with nothing to undo", async () => {
        const plan = await planOf("prod", prod, prod);
        assert.deepEqual(
            [plan.kind, plan.summary, plan.resources, plan.violations, plan.undo],
            [
                "other",
                "no change: the stack file says what the base says",
                [],
                [],
                { command: null, note: "nothing changes; nothing to undo" },
            ],
        );
    });

    it("a new image in the live slot (not a release step in blue-green) breaks 4", async () => {
        const plan = await planOf(
            "prod",
            prod,
            edit(prod, "slots", (s) => (s.blue.image = digest("9"))),
        );
        assert.equal(
            plan.summary,
            "release into the live colour: blue gets web@sha256:999999999999 (was web@sha256:000000000000) while it serves production",
        );
        assert.match(
            plan.violations[0],
            /^invariant 4: a release may change only the candidate's resources, but it would update Resource web-blue-warm \(colors\[0\]\.image\); update Service web-blue-svc/,
        );
        // start goes to the candidate, never into the live slot: no command puts the old image back there.
        assert.deepEqual(plan.undo, {
            command: null,
            note:
                "no release-tool command returns the stack file exactly to the base: revert the commit (git revert); production traffic " +
                "goes where it did, but blue now runs web@sha256:999999999999 (was web@sha256:000000000000)",
        });
    });

    it("a finish in the same commit as the flip: named as both steps, and breaks 6", async () => {
        const flippedAndFinished = afterStep("prod", flipped, (c) => release.finish(c));
        const plan = await planOf("prod", started, flippedAndFinished);
        assert.deepEqual([plan.kind, plan.parts.map((p) => p.kind)], ["combined", ["flip", "finish"]]);
        assert.deepEqual(plan.violations, [
            "invariant 6: blue loses traffic in the same update that scales it down (4 → 0 tasks); keep it warm now and scale it down in a later update (finish)",
        ]);
    });

    it("a start and a flip in one edit: named as both, breaks 6, and undone exactly by rollback then start of the old build", async () => {
        const startedOld = afterStep("prod", started, (c) => release.start(c, { image: digest("9"), schema: { versions: [3] } }));
        const both = afterStep(
            "prod",
            afterStep("prod", startedOld, (c) => release.start(c, { image: digest("f"), schema: { versions: [3] } })),
            (c) => release.flip(c),
        );
        const plan = await planOf("prod", startedOld, both);
        assert.deepEqual([plan.kind, plan.parts.map((p) => p.kind)], ["combined", ["release", "flip"]]);
        assert.equal(
            plan.summary,
            "combined: 2 release steps in one edit (release + flip): release: green (candidate) gets web@sha256:ffffffffffff " +
                "(was web@sha256:999999999999); traffic unchanged; flip: green becomes live (was blue); blue stays warm",
        );
        assert.match(plan.violations[0], /^invariant 6: green gains traffic in the same update that changes its tasks/);
        assert.deepEqual(plan.undo, {
            command:
                "npm run switchyard -- rollback --stack prod && " +
                `npm run switchyard -- start --image ${digest("9")} --schema 3 --stack prod`,
            note: "returns the stack file exactly to the base; checked by running the steps on it",
        });
    });

    it("a flip over a route to the candidate: undone exactly by rollback, then the canary and the route it removed", async () => {
        const routed = edit(
            afterStep("prod", started, (c) => release.canary(c, { percent: 10 })),
            "traffic",
            (t) => (t.routes = [{ color: "green", priority: 7, header: { name: "x-beta-user", values: ["alice"] } }]),
        );
        const plan = await planOf(
            "prod",
            routed,
            afterStep("prod", routed, (c) => release.flip(c)),
        );
        assert.deepEqual([plan.kind, plan.violations], ["flip", []]);
        assert.deepEqual(plan.undo, {
            command:
                "npm run switchyard -- rollback --stack prod && npm run switchyard -- canary --percent 10 --stack prod && " +
                "npm run switchyard -- route add --color green --header x-beta-user=alice --priority 7 --stack prod",
            note: "returns the stack file exactly to the base; checked by running the steps on it",
        });
    });

    it("a canary and a route in one edit: named as both; undone exactly by rollback then the base's canary (rollback alone drops it)", async () => {
        const canary = afterStep("prod", started, (c) => release.canary(c, { percent: 10 }));
        const more = edit(
            afterStep("prod", canary, (c) => release.canary(c, { percent: 20 })),
            "traffic",
            (t) => {
                t.routes = [{ color: "green", header: { name: "x-beta-user", values: ["alice"] } }];
            },
        );
        const plan = await planOf("prod", canary, more);
        assert.deepEqual([plan.kind, plan.parts.map((p) => p.kind), plan.violations], ["combined", ["canary step", "route change"], []]);
        // canary --percent 10 alone would leave the route; rollback alone would remove the base's canary too.
        assert.deepEqual(plan.undo, {
            command: "npm run switchyard -- rollback --stack prod && npm run switchyard -- canary --percent 10 --stack prod",
            note: "returns the stack file exactly to the base; checked by running the steps on it",
        });
    });
});

describe("plan command", () => {
    it("reads the base from git (HEAD by default) and exits 1 naming the invariant", async () => {
        const dir = repo(
            started,
            edit(flipped, "service", (s) => (s.port = 9090)),
        );
        const r = await run(["plan", "--stack", "prod", "--dir", dir]);
        assert.equal(r.code, 1, r.err);
        assert.match(r.out, /^Plan for stack prod \(base: HEAD:Pulumi\.prod\.yaml\)$/m);
        assert.match(r.out, /^ {2}✗ invariant 3: a flip may change only routing/m);
        assert.match(r.out, /^ {2}default: 100% blue \(web@sha256:000000000000\)$/m);
        assert.match(r.out, /^ {2}default: 100% green \(web@sha256:ffffffffffff\)$/m);
    });

    it("--json: one document with traffic, resources, kind, violations and undo; exit 0 for a clean flip", async () => {
        const dir = repo(started, flipped);
        const r = await run(["plan", "--stack", "prod", "--dir", dir, "--json"]);
        assert.equal(r.code, 0, r.err);
        const doc = JSON.parse(r.out);
        assert.equal(doc.kind, "flip");
        assert.deepEqual(doc.violations, []);
        assert.deepEqual(doc.traffic.before.default, [{ color: "blue", percent: 100, build: "web@sha256:000000000000" }]);
        assert.deepEqual(doc.traffic.after.default, [{ color: "green", percent: 100, build: "web@sha256:ffffffffffff" }]);
        assert.deepEqual(doc.traffic.after.testListener, { color: "blue", build: "web@sha256:000000000000" });
        // In reading order (component, colour, type, name), not the order the program registered them.
        assert.deepEqual(
            doc.resources.map((x: any) => [x.component, x.type, x.name, x.change]),
            [
                ["web (BlueGreenService)", "pulumi-nodejs:dynamic:Resource", "web-gate", "update"],
                ["web (TrafficSwitch)", "aws:lb/listener:Listener", "web-prod-listener", "update"],
                ["web (TrafficSwitch)", "aws:lb/listener:Listener", "web-test-listener", "update"],
            ],
        );
        assert.deepEqual(doc.resources[1].properties, [
            "defaultActions[0].forward.targetGroups[0].weight",
            "defaultActions[0].forward.targetGroups[1].weight",
        ]);
        assert.equal(doc.undo, `npm run switchyard -- rollback --stack prod --dir ${dir}`);
    });

    it("--markdown for a pull request; --base-file and --base none", async () => {
        const dir = repo(prod, started);
        fs.writeFileSync(path.join(dir, "deployed.yaml"), stringify({ config: prod }));
        const md = await run(["plan", "--stack", "prod", "--dir", dir, "--base-file", path.join(dir, "deployed.yaml"), "--markdown"]);
        assert.equal(md.code, 0, md.err);
        assert.match(md.out, /^### switchyard plan: `prod` — release$/m);
        assert.match(md.out, /^\*\*release: green \(candidate\) gets web@sha256:ffffffffffff \(was empty\); traffic unchanged\*\*$/m);
        assert.match(md.out, /^\| {2}\| test listener: green \(empty\) \| test listener: green \(web@sha256:ffffffffffff\) \|$/m);

        const none = await run(["plan", "--stack", "prod", "--dir", dir, "--base", "none"]);
        assert.equal(none.code, 0, none.err);
        assert.match(none.out, /^Kind: first deployment: nothing is deployed yet, so everything is created$/m);
        assert.match(none.out, /^Resources: \d+ to create, 0 to update, 0 to replace, 0 to delete$/m);
    });

    // "By default, the program's working directory is assumed to be the location of Pulumi.yaml"
    // (https://github.com/pulumi/pulumi-hugo/pull/1208, reference/pulumi-yaml.md), and the stack files sit next to it.
    it("--dir D: a build context is read relative to D, where pulumi up runs the program, whatever the working folder", async () => {
        const withBuild = edit(prod, "slots", (s) => (s.green = { build: "./service", schema: [3] }));
        const dir = repo(prod, withBuild);
        fs.mkdirSync(path.join(dir, "service"));
        fs.writeFileSync(path.join(dir, "service", "Dockerfile"), "FROM scratch\n");
        const cwd = process.cwd();
        assert.equal(fs.existsSync(path.join(cwd, "service")), false, "the working folder has no ./service");
        const r = await run(["plan", "--stack", "prod", "--dir", dir]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^Kind: release: green \(candidate\) gets build \.\/service \(was empty\); traffic unchanged$/m);
        assert.equal(process.cwd(), cwd);
    });

    it("bad input exits 2: an invalid stack file (same message as status), a base git cannot read, two bases", async () => {
        const dir = repo(
            prod,
            edit(prod, "traffic", (t) => (t.live = "purple")),
        );
        const status = await run(["status", "--stack", "prod", "--dir", dir]);
        const invalid = await run(["plan", "--stack", "prod", "--dir", dir]);
        assert.equal(invalid.code, 2);
        assert.match(invalid.err, /switchyard:traffic\.live/);
        // The same message as status, naming the file by its path.
        assert.equal(invalid.err.replace(path.join(dir, "Pulumi.prod.yaml"), "Pulumi.prod.yaml"), status.err);

        fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stringify({ config: prod }));
        const badRef = await run(["plan", "--stack", "prod", "--dir", dir, "--base", "no-such-ref"]);
        assert.equal(badRef.code, 2);
        assert.match(
            badRef.err,
            /^switchyard: --base no-such-ref: cannot read Pulumi\.prod\.yaml from git in .*; give another ref, --base-file <path>, or --base none/,
        );

        const both = await run(["plan", "--stack", "prod", "--dir", dir, "--base", "none", "--base-file", "x.yaml"]);
        assert.equal(both.code, 2);
        assert.match(both.err, /option '--base <ref>' cannot be used with option '--base-file <path>'/);

        // A build context that is not there: the program cannot be evaluated, which is bad input (2), not a broken invariant (1).
        const missingContext = edit(prod, "slots", (s) => (s.green = { build: "./no-such-context" }));
        fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stringify({ config: missingContext }));
        const unbuildable = await run(["plan", "--stack", "prod", "--dir", dir]);
        assert.equal(unbuildable.code, 2);
        assert.match(unbuildable.err, /Pulumi\.prod\.yaml: the program could not be evaluated: ENOENT: .*no-such-context/);
    });
});
