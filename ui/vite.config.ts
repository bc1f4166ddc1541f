import { defineConfig } from "vite";

// React without @vitejs/plugin-react: esbuild compiles TSX with the automatic runtime.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  clearScreen: false,
  build: {
    target: "es2021",
    outDir: "dist",
    emptyOutDir: true,
    // One chunk, no inline scripts: the CSP allows only 'self' scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      // TanStack Query marks its hooks "use client" (for React Server Components, which a
      // desktop SPA has none of): the bundler drops the directive, as it should, without a
      // warning per file.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE" && warning.message.includes('"use client"')) return;
        warn(warning);
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
