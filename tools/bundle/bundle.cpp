// Policy bundles: a gzip'd POSIX tar archive whose first entry is the manifest, the second
// the manifest's Ed25519 signature, then the files. An archive from outside is hostile until
// checked: every size is bounded before it is read, the signature is checked before the
// manifest is parsed, and nothing is written to disk.
#include "bundle.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "service/gzip.hpp"  // clause::engine_detail

namespace clause::bundle {
namespace {

constexpr std::string_view manifest_path = ".manifest.json";
constexpr std::string_view signature_path = ".signature.json";
constexpr std::size_t block = 512;

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1)
    return {};
  return hex(digest.data(), size);
}

// --- keys and signatures (OpenSSL's libcrypto) ---

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Reads an Ed25519 key from PEM: a private key when `want_private`, else a public key (or
// the public half of a private one).
Result<Pkey, std::string> read_key(std::string_view pem, bool want_private) {
  if (pem.size() > 64 * 1024) return Failure{std::string("the key file is too large")};
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Failure{std::string("out of memory")};
  Pkey key(want_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                        : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key && !want_private) {
    std::unique_ptr<BIO, BioFree> again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (again) key.reset(PEM_read_bio_PrivateKey(again.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    return Failure{fmt::format("cannot read an Ed25519 {} key in PEM form",
                               want_private ? "private" : "public")};
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
    return Failure{std::string("the key is not an Ed25519 key")};
  }
  return key;
}

std::string key_id_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) return {};
  std::string id = sha256_hex(std::string_view(reinterpret_cast<const char*>(der),
                                               static_cast<std::size_t>(size)))
                       .substr(0, 16);
  OPENSSL_free(der);
  return id;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > 1024) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i)
    --size;
  out.resize(size);
  return out;
}

Result<std::string, std::string> sign(EVP_PKEY* key, std::string_view message) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, 64> signature{};
  std::size_t size = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Failure{std::string("the key cannot sign")};
  }
  return std::string(reinterpret_cast<const char*>(signature.data()), size);
}

bool verify(EVP_PKEY* key, std::string_view message, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

// --- gzip (zlib) ---

Result<std::string, std::string> gzip(std::string_view data) {
  auto out = service::gzip(data, 9);
  if (!out) return Failure{std::string("cannot compress")};
  return std::move(*out);
}

// Inflates at most `cap` bytes: a small archive that unpacks to gigabytes is refused as
// soon as it passes the bound.
Result<std::string, std::string> gunzip(std::string_view data, std::size_t cap) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return Failure{std::string("cannot decompress")};
  std::string out;
  std::array<char, 1 << 16> chunk{};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk.data());
    z.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return Failure{std::string(rc == Z_BUF_ERROR ? "the archive is truncated"
                                                   : "the archive is not valid gzip")};
    }
    const std::size_t got = chunk.size() - z.avail_out;
    if (out.size() + got > cap) {
      inflateEnd(&z);
      return Failure{fmt::format("the archive unpacks to more than {} bytes", cap)};
    }
    out.append(chunk.data(), got);
    if (rc != Z_STREAM_END && got == 0 && z.avail_in == 0) {
      inflateEnd(&z);
      return Failure{std::string("the archive is truncated")};
    }
  }
  const bool trailing = z.avail_in != 0;
  inflateEnd(&z);
  if (trailing) return Failure{std::string("the archive has bytes after its end")};
  return out;
}

// --- POSIX tar (ustar), regular files only ---

void put_octal(char* field, std::size_t width, std::uint64_t value) {
  const std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::copy(digits.begin(), digits.end(), field);
  field[width - 1] = '\0';
}

std::uint64_t header_checksum(const char* header) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < block; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  return sum;
}

// A path a bundle may hold: relative, '/'-separated, no empty, `.` or `..` component, at most
// 100 bytes (one ustar name field), printable ASCII.
bool allowed_path(std::string_view path) {
  if (path.empty() || path.size() > 100 || path.front() == '/' || path.back() == '/') return false;
  for (const char c : path) {
    if (c <= ' ' || c > '~' || c == '\\') return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

void tar_append(std::string& out, std::string_view path, std::string_view bytes) {
  std::array<char, block> header{};
  std::copy(path.begin(), path.end(), header.data());
  put_octal(&header[100], 8, 0644);
  put_octal(&header[108], 8, 0);
  put_octal(&header[116], 8, 0);
  put_octal(&header[124], 12, bytes.size());
  put_octal(&header[136], 12, 0);  // mtime: the same input gives the same bytes
  header[156] = '0';
  std::copy_n("ustar", 6, &header[257]);
  header[263] = '0';
  header[264] = '0';
  put_octal(&header[148], 7, header_checksum(header.data()));
  header[155] = ' ';
  out.append(header.data(), block);
  out.append(bytes);
  out.append((block - bytes.size() % block) % block, '\0');
}

std::optional<std::uint64_t> read_octal(std::string_view field) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  while (i < field.size() && field[i] == ' ')
    ++i;
  bool any = false;
  for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value > (std::uint64_t{1} << 60)) return std::nullopt;
    value = value * 8 + static_cast<std::uint64_t>(field[i] - '0');
    any = true;
  }
  for (; i < field.size(); ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  return any ? std::optional(value) : std::nullopt;
}

Result<std::vector<File>, std::string> tar_read(std::string_view tar, const Limits& limits) {
  std::vector<File> files;
  std::set<std::string, std::less<>> seen;
  std::size_t at = 0;
  while (true) {
    if (at + block > tar.size()) return Failure{std::string("the archive is truncated")};
    const std::string_view header = tar.substr(at, block);
    if (header.find_first_not_of('\0') == std::string_view::npos) break;  // the end
    const auto stored = read_octal(header.substr(148, 8));
    if (!stored || *stored != header_checksum(header.data())) {
      return Failure{fmt::format("the archive's entry at byte {} has a bad checksum", at)};
    }
    if (header.substr(257, 5) != "ustar") {
      return Failure{std::string("the archive is not a POSIX (ustar) tar")};
    }
    const std::string_view name = header.substr(0, std::min<std::size_t>(header.find('\0'), 100));
    const std::string path(name);
    if (header[345] != '\0')
      return Failure{fmt::format("`{}`: a path longer than 100 bytes", path)};
    if (header[156] != '0' && header[156] != '\0') {
      return Failure{fmt::format("`{}` is not a regular file", path)};
    }
    if (!allowed_path(path)) return Failure{fmt::format("`{}`: a path a bundle cannot hold", path)};
    if (!seen.insert(path).second)
      return Failure{fmt::format("`{}` is in the archive twice", path)};
    if (files.size() == limits.max_files) {
      return Failure{fmt::format("the archive holds more than {} files", limits.max_files)};
    }
    const auto size = read_octal(header.substr(124, 12));
    if (!size) return Failure{fmt::format("`{}` has a bad size", path)};
    at += block;
    if (*size > tar.size() - at) return Failure{std::string("the archive is truncated")};
    files.push_back({path, std::string(tar.substr(at, *size))});
    at += (*size + block - 1) / block * block;
  }
  return files;
}

// --- the manifest ---

std::string manifest_json(const Manifest& m) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : m.files)
    files.push_back({{"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}});
  const nlohmann::json j = {{"schema_version", 1},
                            {"name", m.name},
                            {"version", m.version},
                            {"policy", m.policy},
                            {"content_hash", m.content_hash},
                            {"files", std::move(files)}};
  return j.dump(2) + "\n";
}

Result<Manifest, std::string> parse_manifest(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  const auto fail = [] { return Failure{std::string("the manifest is not valid")}; };
  if (!j.is_object() || j.value("schema_version", 0) != 1) return fail();
  Manifest m;
  for (const auto& [key, field] :
       {std::pair{"name", &m.name}, std::pair{"version", &m.version},
        std::pair{"policy", &m.policy}, std::pair{"content_hash", &m.content_hash}}) {
    if (!j.contains(key) || !j[key].is_string()) return fail();
    *field = j[key].get<std::string>();
  }
  if (!j.contains("files") || !j["files"].is_array()) return fail();
  for (const auto& f : j["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("sha256") ||
        !f["sha256"].is_string() || !f.contains("bytes") || !f["bytes"].is_number_unsigned())
      return fail();
    m.files.push_back({f["path"].get<std::string>(), f["sha256"].get<std::string>(),
                       f["bytes"].get<std::size_t>()});
  }
  return m;
}

Result<std::string, std::string> pack_impl(Manifest manifest, std::vector<File> files,
                                           std::string_view private_key_pem) {
  auto key = read_key(private_key_pem, true);
  if (!key) return Failure{key.error()};
  std::sort(files.begin(), files.end(),
            [](const File& a, const File& b) { return a.path < b.path; });
  manifest.files.clear();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const File& f = files[i];
    if (!allowed_path(f.path) || f.path.front() == '.') {
      return Failure{fmt::format("`{}`: a path a bundle cannot hold", f.path)};
    }
    if (i > 0 && files[i - 1].path == f.path) {
      return Failure{fmt::format("`{}` is given twice", f.path)};
    }
    manifest.files.push_back({f.path, sha256_hex(f.bytes), f.bytes.size()});
  }
  if (std::none_of(files.begin(), files.end(),
                   [&](const File& f) { return f.path == manifest.policy; })) {
    return Failure{fmt::format("the policy `{}` is not among the files", manifest.policy)};
  }
  const std::string text = manifest_json(manifest);
  auto signature = sign(key->get(), text);
  if (!signature) return Failure{signature.error()};
  const nlohmann::json signed_by = {{"algorithm", "ed25519"},
                                    {"key_id", key_id_of(key->get())},
                                    {"signature", base64(*signature)}};
  std::string tar;
  tar_append(tar, manifest_path, text);
  tar_append(tar, signature_path, signed_by.dump(2) + "\n");
  for (const File& f : files)
    tar_append(tar, f.path, f.bytes);
  tar.append(2 * block, '\0');
  return gzip(tar);
}

Result<Bundle, std::string> open_impl(std::string_view archive, std::string_view public_key_pem,
                                      const Limits& limits) {
  auto key = read_key(public_key_pem, false);
  if (!key) return Failure{key.error()};
  if (archive.size() > limits.max_archive_bytes) {
    return Failure{fmt::format("the archive is larger than {} bytes", limits.max_archive_bytes)};
  }
  auto tar = gunzip(archive, limits.max_unpacked_bytes);
  if (!tar) return Failure{tar.error()};
  auto entries = tar_read(*tar, limits);
  if (!entries) return Failure{entries.error()};
  if (entries->size() < 2 || (*entries)[0].path != manifest_path ||
      (*entries)[1].path != signature_path) {
    return Failure{fmt::format("the archive does not begin with `{}` and `{}`", manifest_path,
                               signature_path)};
  }
  // The signature first: nothing else of the archive is read before it is known whose.
  const auto signed_by = nlohmann::json::parse((*entries)[1].bytes, nullptr, false);
  if (!signed_by.is_object() || signed_by.value("algorithm", "") != "ed25519" ||
      !signed_by.contains("signature") || !signed_by["signature"].is_string()) {
    return Failure{std::string("the signature is not valid")};
  }
  const auto signature = unbase64(signed_by["signature"].get<std::string>());
  if (!signature || !verify(key->get(), (*entries)[0].bytes, *signature)) {
    return Failure{std::string("the signature does not match the key")};
  }
  auto manifest = parse_manifest((*entries)[0].bytes);
  if (!manifest) return Failure{manifest.error()};
  Bundle out;
  out.key_id = key_id_of(key->get());
  if (manifest->files.size() != entries->size() - 2) {
    return Failure{fmt::format("the archive holds {} files; the manifest lists {}",
                               entries->size() - 2, manifest->files.size())};
  }
  for (std::size_t i = 0; i < manifest->files.size(); ++i) {
    const Manifest::Entry& listed = manifest->files[i];
    File& file = (*entries)[i + 2];
    if (file.path != listed.path) {
      return Failure{fmt::format("`{}` is in the archive where the manifest lists `{}`", file.path,
                                 listed.path)};
    }
    if (file.bytes.size() != listed.bytes || sha256_hex(file.bytes) != listed.sha256) {
      return Failure{fmt::format("`{}` does not match its hash in the manifest", file.path)};
    }
    out.files.push_back(std::move(file));
  }
  if (std::none_of(out.files.begin(), out.files.end(),
                   [&](const File& f) { return f.path == manifest->policy; })) {
    return Failure{fmt::format("the policy `{}` is not in the archive", manifest->policy)};
  }
  out.manifest = std::move(*manifest);
  return out;
}

// The folder part of a path inside the bundle, with its slash.
std::string folder_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(path.substr(0, slash + 1));
}

}  // namespace

Result<std::string, std::string> pack(Manifest manifest, std::vector<File> files,
                                      std::string_view private_key_pem) noexcept {
  try {
    return pack_impl(std::move(manifest), std::move(files), private_key_pem);
  } catch (const std::exception& e) {
    return Failure{fmt::format("cannot pack the bundle: {}", e.what())};
  }
}

Result<Bundle, std::string> open(std::string_view archive, std::string_view public_key_pem,
                                 const Limits& limits) noexcept {
  try {
    return open_impl(archive, public_key_pem, limits);
  } catch (const std::exception& e) {
    return Failure{fmt::format("cannot open the bundle: {}", e.what())};
  }
}

std::string key_id(std::string_view key_pem) noexcept {
  try {
    auto key = read_key(key_pem, false);
    return key ? key_id_of(key->get()) : std::string();
  } catch (...) {
    return {};
  }
}

Result<Policy, std::string> compile_bundle(const Bundle& bundle, CompileOptions options) noexcept {
  try {
    const auto find = [&](std::string_view path) -> const File* {
      for (const File& f : bundle.files) {
        if (f.path == path) return &f;
      }
      return nullptr;
    };
    const File* policy_file = find(bundle.manifest.policy);
    if (policy_file == nullptr) {
      return Failure{fmt::format("the policy `{}` is not in the bundle", bundle.manifest.policy)};
    }
    const std::string folder = folder_of(policy_file->path);
    options.read_document = [&](std::string_view path) -> Result<SourceFile, std::string> {
      const File* f = find(folder + std::string(path));
      if (f == nullptr) return Failure{fmt::format("`{}` is not in the bundle", path)};
      return SourceFile{f->path, f->bytes};
    };
    const SourceFile source{policy_file->path, policy_file->bytes};
    auto policy = compile(source, options);
    if (!policy) return Failure{render_text(source, policy.error())};
    if (policy->content_hash() != bundle.manifest.content_hash) {
      return Failure{fmt::format("the policy compiles to {}, not the manifest's {}",
                                 policy->content_hash(), bundle.manifest.content_hash)};
    }
    return std::move(*policy);
  } catch (const std::exception& e) {
    return Failure{fmt::format("cannot compile the bundle: {}", e.what())};
  }
}

}  // namespace clause::bundle
