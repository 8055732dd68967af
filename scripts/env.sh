# Sourced by the scripts: the tool paths and settings every build and test uses.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH" # npm's wasm-opt 132 before Debian's
export TRUNK_SKIP_VERSION_CHECK=true                          # the crates.io API is not reachable
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-false}" # halves target/ and wasm test builds
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-60}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
