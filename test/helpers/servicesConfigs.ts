/** Config builders for the services form (issue 16): raw `switchyard:*` values. */
import { digest } from "./configs";

/** `web` (the default, last) and `api` on /api and /api/* of api.example.com, with one route. */
export function servicesRaw(): Record<string, any> {
    return {
        testAccess: { cidrs: ["203.0.113.0/24"] },
        loadBalancer: { default: "web" },
        services: {
            web: {
                match: { priority: 40000 },
                service: { port: 8080 },
                slots: { blue: { image: digest("a") } },
                traffic: { live: "blue" },
            },
            api: {
                match: { paths: ["/api", "/api/*"], hosts: ["api.example.com"], priority: 100 },
                service: { port: 9090, desiredCount: 3 },
                slots: { blue: { image: digest("b") }, green: { image: digest("c") } },
                traffic: { live: "green", routes: [{ color: "blue", header: { name: "x-beta", values: ["1"] } }] },
            },
        },
    };
}
