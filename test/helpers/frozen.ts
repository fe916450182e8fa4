/**
 * A hung AWS endpoint for fault tests: a TCP proxy to a real endpoint (moto) that can be frozen.
 * Frozen, it accepts connections and reads requests but forwards and answers nothing, on new
 * connections and on kept-alive ones alike (what a black-holed network or a stuck proxy does).
 * Without a target it is frozen from the start.
 */
import * as net from "node:net";

export interface FrozenEndpoint {
    /** `http://127.0.0.1:<port>` */
    readonly endpoint: string;
    /** From now on nothing is forwarded or answered. */
    freeze(): void;
    /** When the first request was swallowed (ms since the epoch); undefined while none was. */
    readonly firstSwallowedAt: number | undefined;
    close(): Promise<void>;
}

export async function frozenEndpoint(target?: { host: string; port: number }): Promise<FrozenEndpoint> {
    let frozen = target === undefined;
    let firstSwallowedAt: number | undefined;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
        sockets.add(client);
        client.on("close", () => sockets.delete(client));
        client.on("error", () => undefined);
        let upstream: net.Socket | undefined;
        client.on("data", (chunk) => {
            if (frozen) {
                firstSwallowedAt ??= Date.now();
                return;
            }
            if (!upstream) {
                upstream = net.connect(target!.port, target!.host);
                sockets.add(upstream);
                upstream.on("close", () => sockets.delete(upstream!));
                upstream.on("error", () => client.destroy());
                upstream.on("data", (answer) => {
                    if (!frozen) client.write(answer);
                });
                upstream.on("end", () => client.end());
            }
            upstream.write(chunk);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        freeze: () => {
            frozen = true;
        },
        get firstSwallowedAt() {
            return firstSwallowedAt;
        },
        close: () =>
            new Promise<void>((resolve) => {
                for (const s of sockets) s.destroy();
                server.close(() => resolve());
            }),
    };
}
