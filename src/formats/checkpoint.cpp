#include "formats/checkpoint.h"

#include <bit>
#include <chrono>
#include <random>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "formats/crc32.h"
#include "formats/io_util.h"

namespace signvote::data {
namespace {

static_assert(std::endian::native == std::endian::little,
              "checkpoint I/O copies little-endian values directly; port it first");
static_assert(sizeof(float) == 4, "float must be IEEE-754 binary32");

// Layout (docs/checkpoint.md): header 32 B, body, CRC-32 4 B.
constexpr std::size_t kHeaderBytes = 32;
constexpr std::size_t kTrailerBytes = 4;
enum Kind : std::uint32_t { kFloatArray = 1, kU64Scalar = 2, kBlob = 3 };

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_section(std::string& out, Kind kind, const std::string& name, const void* data,
                 std::uint64_t bytes) {
  put<std::uint32_t>(out, kind);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
  out += name;
  put<std::uint64_t>(out, bytes);
  out.append(static_cast<const char*>(data), bytes);
}

// Bounds-checked sequential reader over the body; errors say "corrupt".
struct Cursor {
  std::string_view body;
  std::size_t pos = 0;
  const std::string& name;

  std::string_view take(std::uint64_t n) {
    if (n > body.size() - pos)
      throw std::runtime_error("checkpoint " + name +
                               ": corrupt section table (section runs past the end at byte " +
                               std::to_string(kHeaderBytes + pos) + ")");
    auto s = body.substr(pos, n);
    pos += n;
    return s;
  }
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
};

[[noreturn]] void fail(const std::string& name, const std::string& msg) {
  throw std::runtime_error("checkpoint " + name + ": " + msg);
}

void add_section(Checkpoint& c, std::uint32_t kind, std::string key, std::string_view payload,
                 const std::string& name) {
  bool inserted = false;
  if (kind == kFloatArray) {
    if (payload.size() % 4 != 0) fail(name, "corrupt float array '" + key + "'");
    std::vector<float> v(payload.size() / 4);
    if (!v.empty()) std::memcpy(v.data(), payload.data(), payload.size());  // empty: data() may be null
    inserted = c.arrays.emplace(std::move(key), std::move(v)).second;
  } else if (kind == kU64Scalar) {
    if (payload.size() != 8) fail(name, "corrupt scalar '" + key + "'");
    std::uint64_t v;
    std::memcpy(&v, payload.data(), 8);
    inserted = c.scalars.emplace(std::move(key), v).second;
  } else if (kind == kBlob) {
    inserted = c.blobs.emplace(std::move(key), std::string(payload)).second;
  } else {
    fail(name, "corrupt section table (unknown section kind " + std::to_string(kind) + ")");
  }
  if (!inserted) fail(name, "corrupt section table (duplicate section)");
}

}  // namespace

std::string serialize_checkpoint(const Checkpoint& ckpt) {
  std::string body;
  for (const auto& [k, v] : ckpt.arrays) put_section(body, kFloatArray, k, v.data(), v.size() * 4);
  for (const auto& [k, v] : ckpt.scalars) put_section(body, kU64Scalar, k, &v, 8);
  for (const auto& [k, v] : ckpt.blobs) put_section(body, kBlob, k, v.data(), v.size());

  std::string out;
  out.reserve(kHeaderBytes + body.size() + kTrailerBytes);
  out.append(kCheckpointMagic, 8);
  put<std::uint32_t>(out, kCheckpointVersion);
  put<std::uint32_t>(out, 0);  // flags, reserved
  put<std::uint64_t>(out, ckpt.arrays.size() + ckpt.scalars.size() + ckpt.blobs.size());
  put<std::uint64_t>(out, body.size());
  out += body;
  put<std::uint32_t>(out, crc32(out.data(), out.size()));
  return out;
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kCheckpointMagic, 8) != 0) {
    if (bytes.size() < 8 && bytes == std::string_view(kCheckpointMagic, bytes.size()))
      fail(name, "truncated (" + std::to_string(bytes.size()) + " bytes" +
                     (bytes.empty() ? ", empty file)" : ")"));
    fail(name, "bad magic (not a signvote checkpoint)");
  }
  if (bytes.size() < kHeaderBytes)
    fail(name, "truncated (" + std::to_string(bytes.size()) + " bytes, header needs 32)");
  std::uint32_t version;
  std::uint64_t sections, body_bytes;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&sections, bytes.data() + 16, 8);
  std::memcpy(&body_bytes, bytes.data() + 24, 8);
  if (version != kCheckpointVersion)
    fail(name, "unsupported format version " + std::to_string(version) + " (this build reads " +
                   std::to_string(kCheckpointVersion) + ")");
  const std::uint64_t avail = bytes.size() - kHeaderBytes;
  if (body_bytes > avail || avail - body_bytes < kTrailerBytes)
    fail(name, "truncated (" + std::to_string(bytes.size()) + " bytes, header says " +
                   std::to_string(body_bytes + kHeaderBytes + kTrailerBytes) + ")");
  if (avail - body_bytes > kTrailerBytes)
    fail(name, "corrupt (" + std::to_string(avail - body_bytes - kTrailerBytes) +
                   " trailing bytes after the checksum)");
  const std::size_t covered = kHeaderBytes + body_bytes;
  std::uint32_t stored;
  std::memcpy(&stored, bytes.data() + covered, 4);
  const std::uint32_t actual = crc32(bytes.data(), covered);
  if (stored != actual) {
    char msg[96];
    std::snprintf(msg, sizeof msg, "checksum mismatch (stored crc32 %08x, computed %08x)",
                  stored, actual);
    fail(name, msg);
  }
  Checkpoint c;
  Cursor cur{bytes.substr(kHeaderBytes, body_bytes), 0, name};
  for (std::uint64_t i = 0; i < sections; ++i) {
    const auto kind = cur.get<std::uint32_t>();
    std::string key(cur.take(cur.get<std::uint32_t>()));
    add_section(c, kind, std::move(key), cur.take(cur.get<std::uint64_t>()), name);
  }
  if (cur.pos != body_bytes) fail(name, "corrupt section table (unused body bytes)");
  return c;
}

void write_checkpoint_atomic(const std::filesystem::path& file, const Checkpoint& ckpt) {
  io::write_file_atomic(file, serialize_checkpoint(ckpt), "checkpoint");
}

Checkpoint read_checkpoint(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    throw std::runtime_error("checkpoint " + file.string() + ": not found");
  return parse_checkpoint(io::read_all(file, "checkpoint"), file.string());
}

namespace {

template <class Map>
const typename Map::mapped_type& require(const Map& m, const char* kind, const std::string& name,
                                         const std::filesystem::path& file) {
  const auto it = m.find(name);
  if (it == m.end())
    throw std::runtime_error("checkpoint '" + file.string() + "': no " + kind + " '" + name +
                             "' (the file is complete but lacks that section: not a checkpoint of this kind of run)");
  return it->second;
}

}  // namespace

const std::vector<float>& require_array(const Checkpoint& c, const std::string& name, const std::filesystem::path& file) {
  return require(c.arrays, "array", name, file);
}

std::uint64_t require_scalar(const Checkpoint& c, const std::string& name, const std::filesystem::path& file) {
  return require(c.scalars, "scalar", name, file);
}

const std::string& require_blob(const Checkpoint& c, const std::string& name, const std::filesystem::path& file) {
  return require(c.blobs, "blob", name, file);
}

std::uint64_t new_run_id() {
  std::random_device rd;  // an identifier, not a training stream: not seeded from run.seed
  const std::uint64_t id = (std::uint64_t(rd()) << 32) ^ rd() ^
                           std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  return id ? id : 1;
}

}  // namespace signvote::data
