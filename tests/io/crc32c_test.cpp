#include "framework/io/crc32c.h"

#include <boost/test/unit_test.hpp>

#include <array>
#include <string>

using namespace ft::io;

BOOST_AUTO_TEST_SUITE(crc32c_suite)

BOOST_AUTO_TEST_CASE(known_answers) {
  const std::string digits = "123456789";
  BOOST_TEST(crc32c(digits.data(), digits.size()) == 0xE3069283u);
  // RFC 3720 (iSCSI) test vectors.
  std::array<uint8_t, 32> bytes{};
  BOOST_TEST(crc32c(bytes) == 0x8A9136AAu);
  bytes.fill(0xFF);
  BOOST_TEST(crc32c(bytes) == 0x62A8AB43u);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i);
  BOOST_TEST(crc32c(bytes) == 0x46DD794Eu);
  BOOST_TEST(crc32c(nullptr, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(mask_matches_tensorflow) {
  // mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8, computed by hand.
  BOOST_TEST(mask_crc32c(0u) == 0xa282ead8u);
  BOOST_TEST(mask_crc32c(0x00008000u) == 0xa282ead9u);  // bit 15 rotates to bit 0
  BOOST_TEST(mask_crc32c(1u) == 0xa284ead8u);           // bit 0 rotates to bit 17
  BOOST_TEST(mask_crc32c(0xE3069283u) == uint32_t(((0xE3069283u >> 15) | (0xE3069283u << 17)) +
                                                  0xa282ead8u));
  for (uint32_t c : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu, 0x12345678u})
    BOOST_TEST(unmask_crc32c(mask_crc32c(c)) == c);
}

BOOST_AUTO_TEST_SUITE_END()
