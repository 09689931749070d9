import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the API itself (src/core/console.ts): same origin, so the session cookie and the
// API need no CORS. `npm run web:dev` proxies the API to a server started with `npm run dev`.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/api': 'http://localhost:8000', '/media': 'http://localhost:8000' } },
});
