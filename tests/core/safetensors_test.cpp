#define BOOST_TEST_MODULE safetensors
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <lamina/error.hpp>
#include "runtime/safetensors.hpp"

#include "test_support.hpp"

using namespace lamina;
using namespace lamina::test;

namespace {

std::string error_of(const fs::path& f) {
  try {
    read_safetensors(f);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string with_header(const std::string& json, const std::string& data) {
  std::string s(8, '\0');
  const std::uint64_t n = json.size();
  std::memcpy(s.data(), &n, 8);
  return s + json + data;
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_keeps_names_shapes_values_and_metadata) {
  TempDir dir;
  Tensor w(Shape{2, 3}), b(Shape{3});
  for (int i = 0; i < 6; ++i) w[i] = 0.5f * static_cast<float>(i) - 1.0f;
  b[2] = 7.0f;
  write_safetensors(dir / "m.safetensors", {{"layers.0.W", &w}, {"layers.0.b", &b}}, {{"seed", "42"}});
  const SafetensorsFile f = read_safetensors(dir / "m.safetensors");
  BOOST_TEST(f.tensors.size() == 2u);
  BOOST_TEST(f.tensors.at("layers.0.W").shape().str() == "(2, 3)");
  BOOST_TEST(f.tensors.at("layers.0.W")[5] == 1.5f);
  BOOST_TEST(f.tensors.at("layers.0.b")[2] == 7.0f);
  BOOST_TEST(f.metadata.at("seed") == "42");
  // The standard layout: header length, JSON, then the data (little-endian float32).
  const std::string raw = read_file(dir / "m.safetensors");
  std::uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  BOOST_TEST(raw.substr(8, n).find("\"layers.0.W\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}") !=
             std::string::npos);
  BOOST_TEST(raw.size() == 8 + n + 36);
}

BOOST_AUTO_TEST_CASE(damaged_files_are_refused_with_the_reason) {
  TempDir dir;
  const auto f = dir / "bad.safetensors";
  const std::string name = f.string();
  write_file(f, "abc");
  BOOST_TEST(error_of(f) == name + ": truncated: 3 bytes, not even a header length");
  write_file(f, with_header("{\"a\":1", ""));
  BOOST_TEST(error_of(f).find("the header is not valid JSON") != std::string::npos);
  write_file(f, std::string("\xff\xff\xff\xff\x00\x00\x00\x00{}", 10));
  BOOST_TEST(error_of(f).find("the header claims 4294967295 bytes") != std::string::npos);
  write_file(f, with_header(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')));
  BOOST_TEST(error_of(f) == name + ": tensor 'w' claims bytes [0, 16) for 4 floats but the data hold 8 bytes");
  write_file(f, with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}})", std::string(12, '\0')));
  BOOST_TEST(error_of(f).find("claims bytes [0, 12) for 2 floats") != std::string::npos);
  write_file(f, with_header(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')));
  BOOST_TEST(error_of(f) == name + ": tensor 'w' has dtype \"F16\", Lamina reads F32 only");
  write_file(f, with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                            std::string(12, '\0')));
  BOOST_TEST(error_of(f) == name + ": two tensors overlap in the data");
  write_file(f, with_header(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0')));
  BOOST_TEST(error_of(f) == name + ": tensor 'w' has a bad size");
  BOOST_TEST(error_of(dir / "none") == (dir / "none").string() + ": no such checkpoint file");
}
