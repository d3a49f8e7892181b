// The page served by `clause serve --playground` asks the server: no engine in the page.
// The static build (build-wasm/playground/) replaces this file with the WebAssembly engine.
