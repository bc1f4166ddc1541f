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
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
