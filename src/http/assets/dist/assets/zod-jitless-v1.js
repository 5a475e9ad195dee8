// Loaded as a classic script before the page's modules: Scalar validates with
// zod, which otherwise probes for `new Function` to compile faster validators,
// and the page's content security policy forbids eval. zod reads this global
// when it first loads. (Not content-hashed by Vite: change the name if the
// content changes, since /assets/ is cached for good.)
globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig || {}, { jitless: true });
