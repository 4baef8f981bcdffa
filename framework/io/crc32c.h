// CRC32C (Castagnoli polynomial), the checksum TFRecord framing uses, and
// TensorFlow's masked form: a CRC stored next to data it covers is masked so that
// a CRC computed over bytes that themselves contain CRCs stays well distributed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace ft::io {

// CRC32C of `bytes` (reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF).
uint32_t crc32c(std::span<const uint8_t> bytes);
uint32_t crc32c(const void* data, size_t size);

// mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8, as TensorFlow's crc32c::Mask.
uint32_t mask_crc32c(uint32_t crc);

// The inverse of mask_crc32c (readers verify a stored masked CRC with it).
uint32_t unmask_crc32c(uint32_t masked);

}  // namespace ft::io
