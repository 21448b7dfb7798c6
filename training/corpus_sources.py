"""The pinned corpus: which permissively licensed sources training/prepare.py reads, and how much of each.

Three kinds of source:
  dir  a folder on the machine (CPython's standard library, Node's headers);
  deb  a Debian package's own files (`dpkg -L`), installed by `prepare.py --install-packages`;
  npm  a package tarball fetched by `npm pack NAME@VERSION` into training/cache/npm (git-ignored).
Debian licences were read from /usr/share/doc/<package>/copyright (the `Files: *` stanza, Debian 12);
files under another licence inside a package are listed in `exclude`. npm licences are checked at
prepare time against the tarball's package.json. `max_mb` caps a source so no library dominates;
a capped source takes files in the order of a hash of their path, so the cap samples the whole
package rather than its alphabetical head. Globs: `*` stays inside one folder, `**/` spans folders.
"""
import sys

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
PY_EXT = ["**/*.py"]
C_EXT = ["**/*.h", "**/*.hpp", "**/*.hh", "**/*.hxx", "**/*.ipp", "**/*.inl"]
RUST_EXT = ["**/*.rs"]
GO_EXT = ["**/*.go"]

DIRS = [
    dict(name="python-stdlib", root=f"/usr/lib/python{PY}", globs=PY_EXT, exclude=["site-packages/**", "dist-packages/**"],
         version=f"CPython {PY} (Debian)", license="PSF-2.0", max_mb=12),
    dict(name="node-headers", root="/usr/include/node", globs=C_EXT,
         version="Node.js headers (Debian/nodesource)", license="MIT, BSD-3-Clause (V8), Apache-2.0 (OpenSSL)", max_mb=4),
]

# (package, licence of its Files: * stanza, max MB, globs, excluded globs)
DEBS = [
    # Python libraries (.py only)
    ("python3-sympy", "BSD-3-Clause", 5, PY_EXT, []),
    ("python3-torch", "BSD-3-Clause", 5, PY_EXT, []),
    ("python3-numpy", "BSD-3-Clause", 4, PY_EXT, []),
    ("python3-pandas", "BSD-3-Clause", 4, PY_EXT, []),
    ("python3-scipy", "BSD-3-Clause", 4, PY_EXT, []),
    ("python3-twisted", "MIT", 3, PY_EXT, []),
    ("python3-sklearn", "BSD-3-Clause", 3, PY_EXT, []),
    ("python3-matplotlib", "PSF-based matplotlib licence (BSD-compatible)", 3, PY_EXT, []),
    ("python3-sqlalchemy", "MIT", 3, PY_EXT, []),
    ("python3-django", "BSD-3-Clause", 3, PY_EXT, []),
    ("python3-networkx", "BSD-3-Clause", 2, PY_EXT, ["**/joint_degree_seq.py"]),  # that file is GPL-3
    ("python3-pip", "MIT", 2, PY_EXT, ["**/_vendor/**"]),  # vendored code has other licences (MPL, LGPL)
    ("python3-pygments", "BSD-2-Clause", 2, PY_EXT, []),
    ("python3-setuptools", "MIT", 1, PY_EXT, ["**/_vendor/**"]),
    ("python3-mpmath", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-onnx", "MIT", 1, PY_EXT, []),
    ("python3-tornado", "Apache-2.0", 1, PY_EXT, []),
    ("python3-celery", "BSD-2-Clause", 1, PY_EXT, []),
    ("python3-botocore", "Apache-2.0", 1, PY_EXT, []),
    ("python3-pytest", "MIT", 1, PY_EXT, []),
    ("python3-redis", "MIT", 1, PY_EXT, []),
    ("python3-aiohttp", "Apache-2.0", 1, PY_EXT, []),
    ("python3-werkzeug", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-flask", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-jinja2", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-click", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-markdown", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-babel", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-boto3", "Apache-2.0", 1, PY_EXT, []),
    ("python3-requests", "Apache-2.0", 1, PY_EXT, []),
    ("python3-urllib3", "MIT", 1, PY_EXT, []),
    ("python3-dateutil", "BSD-3-Clause", 1, PY_EXT, []),
    ("python3-yaml", "MIT", 1, PY_EXT, []),
    # Rust crates (/usr/share/cargo/registry)
    ("librust-tokio-dev", "MIT", 3, RUST_EXT, []),
    ("librust-libc-dev", "MIT OR Apache-2.0", 1.5, RUST_EXT, []),
    ("librust-syn-dev", "MIT OR Apache-2.0", 2, RUST_EXT, []),
    ("librust-regex-syntax-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-regex-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-regex-automata-dev", "Unlicense OR MIT", 1, RUST_EXT, []),
    ("librust-clap-dev", "MIT", 1, RUST_EXT, []),
    ("librust-chrono-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-hyper-dev", "MIT", 1, RUST_EXT, []),
    ("librust-serde-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-serde-json-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-rand-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-hashbrown-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-itertools-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-nom-dev", "MIT", 1, RUST_EXT, []),
    ("librust-futures-util-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-rayon-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-rayon-core-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-bytes-dev", "MIT", 1, RUST_EXT, []),
    ("librust-indexmap-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-crossbeam-channel-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-smallvec-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-num-traits-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-toml-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-url-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-memchr-dev", "Unlicense OR MIT", 1, RUST_EXT, []),
    ("librust-proc-macro2-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-anyhow-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-log-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    ("librust-thiserror-dev", "MIT OR Apache-2.0", 1, RUST_EXT, []),
    # Go modules (/usr/share/gocode)
    ("golang-golang-x-tools-dev", "BSD-3-Clause", 4, GO_EXT, []),
    ("golang-golang-x-net-dev", "BSD-3-Clause", 3, GO_EXT, []),
    ("golang-google-protobuf-dev", "BSD-3-Clause", 3, GO_EXT, []),
    ("golang-golang-x-sys-dev", "BSD-3-Clause", 2, GO_EXT, []),
    ("golang-golang-x-text-dev", "BSD-3-Clause", 2, GO_EXT, []),
    ("golang-golang-x-crypto-dev", "BSD-3-Clause", 2, GO_EXT, []),
    ("golang-github-prometheus-client-golang-dev", "Apache-2.0", 1, GO_EXT, []),
    ("golang-github-stretchr-testify-dev", "MIT", 1, GO_EXT, []),
    ("golang-github-spf13-cobra-dev", "Apache-2.0", 1, GO_EXT, []),
    ("golang-github-gin-gonic-gin-dev", "MIT", 1, GO_EXT, []),
    ("golang-github-gorilla-mux-dev", "BSD-3-Clause", 1, GO_EXT, []),
    ("golang-github-sirupsen-logrus-dev", "MIT", 1, GO_EXT, []),
    ("golang-github-google-go-cmp-dev", "BSD-3-Clause", 1, GO_EXT, []),
    ("golang-gopkg-yaml.v3-dev", "Apache-2.0 AND MIT", 1, GO_EXT, []),
    ("golang-github-pkg-errors-dev", "BSD-2-Clause", 1, GO_EXT, []),
    ("golang-github-google-uuid-dev", "BSD-3-Clause", 1, GO_EXT, []),
    ("golang-github-spf13-pflag-dev", "BSD-3-Clause", 1, GO_EXT, []),
    # C and C++ headers (/usr/include)
    ("libboost1.74-dev", "BSL-1.0", 10, C_EXT, []),
    ("libabsl-dev", "Apache-2.0", 3, C_EXT, []),
    ("libssl-dev", "Apache-2.0", 2, C_EXT, []),
    ("libprotobuf-dev", "BSD-3-Clause", 2, C_EXT, []),
    ("libglm-dev", "MIT", 2, C_EXT, []),
    ("nlohmann-json3-dev", "MIT", 1, C_EXT, []),
    ("libfmt-dev", "MIT", 1, C_EXT, []),
    ("libspdlog-dev", "MIT", 1, C_EXT, []),
    ("libgtest-dev", "BSD-3-Clause", 1, C_EXT, []),
    ("libbenchmark-dev", "Apache-2.0", 1, C_EXT, []),
    ("rapidjson-dev", "MIT", 1, C_EXT, []),
    ("libuv1-dev", "MIT", 1, C_EXT, []),
    ("libcurl4-openssl-dev", "curl (MIT-style)", 1, C_EXT, []),
    ("libsqlite3-dev", "public domain", 1, C_EXT, []),
    ("libpython3.11-dev", "PSF-2.0", 1, C_EXT, []),
    ("libexpat1-dev", "MIT", 1, C_EXT, []),
    ("libxml2-dev", "MIT", 1, C_EXT, []),
    ("zlib1g-dev", "Zlib", 1, C_EXT, []),
    ("libzstd-dev", "BSD-3-Clause", 1, C_EXT, []),
    ("liblz4-dev", "BSD-2-Clause", 1, C_EXT, []),
]

# (package, version, max MB, globs, excluded globs); every package's top-level README.md is read too.
NPMS = [
    ("typescript", "5.9.3", 4, ["lib/lib.*.d.ts", "lib/typescript.d.ts"], []),
    ("mocha", "11.7.5", 1, ["lib/**/*.js"], []),
    ("fast-check", "4.3.0", 2, ["lib/cjs/**/*.js"], []),
    ("playwright-core", "1.56.1", 4, ["lib/**/*.js"], []),
    ("eslint", "9.39.1", 3, ["lib/**/*.js"], []),
    ("@vscode/vsce", "3.7.1", 1, ["out/*.js"], []),
    ("three", "0.187.0", 8, ["src/**/*.js", "examples/jsm/**/*.js"], ["examples/jsm/libs/**"]),
    ("webpack", "5.112.2", 6, ["lib/**/*.js", "types.d.ts"], []),
    ("zod", "4.6.7", 3, ["src/**/*.ts"], []),
    ("@types/node", "20.19.25", 2.5, ["**/*.d.ts"], []),
    ("svelte", "5.57.3", 2, ["src/**/*.js", "types/**/*.d.ts"], []),
    ("undici", "8.12.4", 2, ["lib/**/*.js", "types/**/*.d.ts", "docs/**/*.md"], []),
    ("highlight.js", "11.12.0", 1.5, ["lib/**/*.js"], []),
    ("graphql", "17.1.0", 1.5, ["**/*.js", "**/*.d.ts"], []),
    ("lodash", "4.18.1", 1.5, ["*.js", "fp/*.js"], ["lodash.js", "core.js"]),
    ("rxjs", "7.8.2", 1, ["src/**/*.ts"], []),
    ("terser", "5.51.2", 1, ["lib/**/*.js", "tools/**/*.js"], []),
    ("date-fns", "4.4.0", 1, ["*.js", "*.d.ts"], []),
    ("core-js", "3.51.0", 1, ["modules/*.js", "internals/*.js"], []),
    ("moment", "2.31.0", 1, ["src/**/*.js"], []),
    ("@babel/types", "8.1.2", 1, ["lib/**/*.js", "lib/**/*.d.ts"], []),
    ("mobx", "7.1.3", 0.5, ["src/**/*.ts"], []),
    ("leaflet", "1.9.4", 0.5, ["src/**/*.js"], []),
    ("less", "4.9.1", 0.6, ["lib/**/*.js"], []),
    ("bluebird", "3.7.2", 0.6, ["js/release/*.js"], []),
    ("jquery", "4.0.0", 0.3, ["src/**/*.js"], []),
    ("ajv", "8.20.0", 0.4, ["lib/**/*.ts"], []),
    ("axios", "1.21.1", 0.4, ["lib/**/*.js", "index.d.ts"], []),
    ("async", "3.2.6", 0.3, ["*.js", "internal/*.js"], []),
    ("preact", "11.2.0", 0.3, ["src/**/*.js", "src/**/*.ts", "*/src/**/*.js", "*/src/**/*.ts"], []),
    ("postcss", "8.5.33", 0.3, ["lib/*.js", "lib/*.d.ts"], []),
    ("markdown-it", "15.0.3", 0.3, ["dist/*.js"], []),
    ("@babel/core", "8.1.2", 0.2, ["lib/**/*.js"], []),
    ("underscore", "1.13.8", 0.2, ["modules/*.js"], []),
    ("yargs", "18.2.0", 0.2, ["build/**/*.js"], []),
    ("commander", "15.1.0", 0.2, ["lib/*.js", "typings/*.d.ts"], []),
    ("ws", "8.23.0", 0.2, ["lib/*.js"], []),
    ("pg", "8.23.1", 0.1, ["lib/**/*.js"], []),
    ("express", "5.3.0", 0.1, ["lib/*.js"], []),
    ("koa", "3.3.0", 0.1, ["lib/*.js"], []),
]

# SPDX identifiers accepted for npm packages (an expression passes when every identifier is here).
PERMISSIVE_SPDX = {"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "0BSD", "BSL-1.0", "Unlicense",
                   "Zlib", "PSF-2.0", "CC0-1.0", "Python-2.0"}
