// Policy bundles: a policy with its data and test files in one signed archive, so that many
// replicas can decide with the same, authenticated version (docs/deploy.md).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "clause/clause.hpp"

namespace clause::bundle {

/// One file of a bundle: its path inside ('/'-separated, relative) and its bytes.
struct File {
  std::string path;
  std::string bytes;
};

/// What a bundle's manifest says: the files it holds, each by its SHA-256, and the policy
/// they compile to.
struct Manifest {
  std::string name;          // the policy's name, from `policy "NAME" version "V"`
  std::string version;       // the policy's version
  std::string policy;        // the policy file's path inside
  std::string content_hash;  // the compiled policy's content hash (text and documents)
  struct Entry {
    std::string path;
    std::string sha256;  // 64 lower-case hex digits
    std::size_t bytes = 0;
  };
  std::vector<Entry> files;  // sorted by path, the policy among them
};

/// A bundle whose signature and hashes were checked.
struct Bundle {
  Manifest manifest;
  std::vector<File> files;  // as the manifest lists them
  std::string key_id;       // the signing key's id (see key_id())
};

/// Bounds on a bundle read from outside: the archive, what it unpacks to, its files.
struct Limits {
  std::size_t max_archive_bytes = std::size_t{64} << 20;
  std::size_t max_unpacked_bytes = std::size_t{256} << 20;
  std::size_t max_files = 1024;
};

/// Packs `files` (the manifest's policy among them) with a manifest and an Ed25519
/// signature by `private_key_pem` into a gzip'd POSIX tar archive. The same input gives the
/// same bytes. Gives why when the key cannot sign or a path is not allowed.
Result<std::string, std::string> pack(Manifest manifest, std::vector<File> files,
                                      std::string_view private_key_pem) noexcept;

/// Unpacks an archive within `limits` and checks it: the signature over the manifest by
/// `public_key_pem`, then each file's size and SHA-256, and that it holds exactly the files
/// the manifest lists. Gives why it refuses it otherwise.
Result<Bundle, std::string> open(std::string_view archive, std::string_view public_key_pem,
                                 const Limits& limits = {}) noexcept;

/// A short id of a public key (PEM, or the public half of a private key): the first 16 hex
/// digits of the SHA-256 of its DER form; empty when the key cannot be read.
std::string key_id(std::string_view key_pem) noexcept;

/// Compiles the bundle's policy, its documents read from the bundle, and checks that it
/// gives the manifest's content hash. `options.read_document` is replaced.
Result<Policy, std::string> compile_bundle(const Bundle& bundle, CompileOptions options) noexcept;

}  // namespace clause::bundle
