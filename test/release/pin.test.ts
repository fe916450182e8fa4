/** `pin --stack S [--digest REF]`: the live build slot gets the digest it runs; nothing else changes. */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { A, B, read, run, stackDir } from "./fixtures";

const BUILD_LIVE = `config:
  switchyard:service:
    name: web
  switchyard:slots:
    green:
      build: ./app           # built by pulumi up
      schema: [3]
  switchyard:traffic:
    live: green              # serves production
`;

const PINNED = BUILD_LIVE.replace("build: ./app           # built by pulumi up", `image: ${A}`);

/** A `pulumi` on PATH that prints the stack output `images` of a deployed stack. */
function pulumiOnPath(dir: string): NodeJS.ProcessEnv {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho '{"green": "${A}"}'\n`, { mode: 0o755 });
    return { PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin` };
}

describe("pin", () => {
    it("pins the live build slot to --digest, changing only that line", async () => {
        const dir = stackDir({ dev: BUILD_LIVE });
        const r = await run(["pin", "--stack", "dev", "--digest", A, "--dir", dir]);
        assert.equal(r.code, 0, r.err);
        assert.equal(
            r.out,
            "green (live) pinned to web@sha256:aaaaaaaaaaaa (was build ./app); nothing else changed. " +
                "Next: pulumi up --stack dev, nothing rebuilds the live colour any more",
        );
        assert.equal(read(dir, "dev"), PINNED);
    });

    it("reads the digest from pulumi stack output images without --digest", async () => {
        const dir = stackDir({ dev: BUILD_LIVE });
        const r = await run(["pin", "--stack", "dev", "--dir", dir], pulumiOnPath(dir));
        assert.equal(r.code, 0, r.err);
        assert.equal(read(dir, "dev"), PINNED);
    });

    it("without a digest and without pulumi: refuses, saying how to pass one", async () => {
        const dir = stackDir({ dev: BUILD_LIVE });
        const r = await run(["pin", "--stack", "dev", "--dir", dir]);
        assert.equal(r.code, 1);
        assert.equal(
            r.err,
            "switchyard: green (live) is a build (./app) and pin needs the digest it runs, but no digest was given and the pulumi CLI " +
                "could not supply it; pass --digest <repo>@sha256:<digest> (it is green in: pulumi stack output images --json --stack dev)",
        );
        assert.equal(read(dir, "dev"), BUILD_LIVE);
    });

    it("already pinned: nothing to do (exit 0); to another digest: refused, pointing at start", async () => {
        const dir = stackDir({ dev: PINNED });
        const same = await run(["pin", "--stack", "dev", "--dir", dir]);
        assert.equal(same.code, 0, same.err);
        assert.match(
            same.out,
            /^already so: green \(live\) is already pinned to web@sha256:aaaaaaaaaaaa; nothing to do; .*Pulumi\.dev\.yaml unchanged$/,
        );
        const other = await run(["pin", "--stack", "dev", "--digest", B, "--dir", dir]);
        assert.equal(other.code, 1);
        assert.equal(
            other.err,
            "switchyard: green (live) is already pinned to web@sha256:aaaaaaaaaaaa, not web@sha256:bbbbbbbbbbbb; pin only pins a build slot " +
                `(to release another image: npm run switchyard -- start --stack dev --image ${B})`,
        );
        assert.equal(read(dir, "dev"), PINNED);
    });

    it("promote from a stack whose live slot is a build suggests pin, which works as printed; then promote works", async () => {
        const prod = `config:
  switchyard:environment: production
  switchyard:service:
    name: web
  switchyard:slots:
    blue:
      image: ${B}
  switchyard:traffic:
    live: blue
  switchyard:testAccess:
    cidrs: [10.0.0.0/8]
`;
        const dir = stackDir({ dev: BUILD_LIVE, prod });
        const env = pulumiOnPath(dir);
        const refused = await run(["promote", "--from", "dev", "--to", "prod", "--dir", dir], env);
        assert.equal(refused.code, 1);
        assert.equal(
            refused.err,
            "switchyard: dev's live slot green is a build (./app), not pinned to a digest, so there is nothing immutable to promote; " +
                "pin it to the digest it runs first (nothing else changes): npm run switchyard -- pin --stack dev " +
                "(the digest comes from pulumi stack output images; without the pulumi CLI add --digest <repo>@sha256:<digest>)",
        );
        const suggested = /npm run switchyard -- (pin --stack dev)/.exec(refused.err)![1].split(" ");
        assert.equal((await run([...suggested, "--dir", dir], env)).code, 0);
        assert.equal(read(dir, "dev"), PINNED);
        const promoted = await run(["promote", "--from", "dev", "--to", "prod", "--dir", dir], env);
        assert.equal(promoted.code, 0, promoted.err);
        assert.match(promoted.out, /^from dev \(live green\): green \(candidate\) now holds web@sha256:aaaaaaaaaaaa, schema \[3\]/);
    });
});
