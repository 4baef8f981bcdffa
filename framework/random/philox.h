// Philox 4x32-10 (Salmon et al., SC'11): a counter-based generator. The output
// for (key, counter) is a pure function, so element i of a fill depends only on
// (seed, stream, offset + i): the same numbers at any thread count, on any device,
// and after any resume.
#pragma once
#include <array>
#include <cstdint>

#include "framework/core/half.h"

namespace ft {

using PhiloxBlock = std::array<uint32_t, 4>;

FT_HOST_DEVICE void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  uint64_t product = uint64_t(a) * uint64_t(b);
  *hi = uint32_t(product >> 32);
  *lo = uint32_t(product);
}

// Key = seed; counter = (block index, stream).
FT_HOST_DEVICE PhiloxBlock philox4x32_10(uint64_t seed, uint64_t stream, uint64_t block_index) {
  uint32_t c0 = uint32_t(block_index), c1 = uint32_t(block_index >> 32);
  uint32_t c2 = uint32_t(stream), c3 = uint32_t(stream >> 32);
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, c0, &hi0, &lo0);
    philox_mulhilo(0xCD9E8D57u, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

// A uniform in (0, 1) from 32 random bits; never 0, so log() is safe.
FT_HOST_DEVICE double philox_unit(uint32_t bits) { return (double(bits) + 0.5) * (1.0 / 4294967296.0); }

}  // namespace ft
