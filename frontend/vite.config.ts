import { defineConfig } from "vitest/config";

// Built into dist/ with a manifest; Django serves it (whitenoise) under /static/.
export default defineConfig({
  base: "/static/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { main: "src/main.ts", scenario: "src/scenario.ts", reference: "bench/sprites.html" } },
  },
  test: { include: ["src/**/*.test.ts"] },
});
