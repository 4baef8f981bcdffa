#include <boost/test/unit_test.hpp>
#include <cstdint>

#include "framework/core/allocator.h"
#include "framework/ops/ops.h"

using namespace ft;

BOOST_AUTO_TEST_SUITE(tensor)

BOOST_AUTO_TEST_CASE(views_share_storage) {
  Tensor x = Tensor::arange(24).reshape({2, 3, 4});
  Tensor t = x.transpose(0, 2);
  Tensor s = x.slice(1, 1, 3);
  Tensor e = x.select(0, 1).unsqueeze(0).expand({5, 3, 4});
  BOOST_TEST(t.shares_storage(x));
  BOOST_TEST(s.shares_storage(x));
  BOOST_TEST(e.shares_storage(x));
  BOOST_TEST(!t.is_contiguous());
  BOOST_TEST((t.shape() == Shape{4, 3, 2}));
  BOOST_TEST(t.contiguous().to_double_vector()[1] == 12.0);  // t[0,0,1] = x[1,0,0]
  BOOST_TEST(s.to_double_vector()[0] == 4.0);                // x[0,1,0]
  BOOST_TEST(e.to_double_vector()[3 * 4 * 4 + 5] == 17.0);   // e[4,1,1] = x[1,1,1]
  x.fill_(7.0);
  BOOST_TEST(t.contiguous().to_double_vector()[5] == 7.0);   // writes are visible through views
}

BOOST_AUTO_TEST_CASE(reshape_of_strided_copies_and_checks) {
  Tensor x = Tensor::arange(6).reshape({2, 3}).transpose(0, 1);
  Tensor r = x.reshape({6});
  BOOST_TEST(!r.shares_storage(x));
  std::vector<double> expect{0, 3, 1, 4, 2, 5};
  BOOST_TEST(r.to_double_vector() == expect, boost::test_tools::per_element());
  BOOST_CHECK_THROW(x.reshape({4}), Error);
  BOOST_CHECK_THROW(x.reshape({-1, -1}), Error);
  BOOST_CHECK_THROW(x.slice(0, 2, 1), Error);
  BOOST_CHECK_THROW(x.expand({2, 2}), Error);
}

BOOST_AUTO_TEST_CASE(dtypes_convert) {
  Tensor x = Tensor::from_vector<float>({1.5f, -2.25f, 300.0f, 0.1f}, {4});
  for (DType d : {DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64}) {
    Tensor back = x.to(d).to(DType::f32);
    BOOST_TEST_CONTEXT(dtype_name(d)) {
      bool integral = d == DType::i32 || d == DType::i64;
      BOOST_TEST(back.to_double_vector()[0] == (integral ? 1.0 : 1.5));  // integers truncate
      BOOST_TEST(back.to_double_vector()[1] == (integral ? -2.0 : -2.25));
      BOOST_TEST(back.to_double_vector()[2] == 300.0);
    }
  }
  Tensor u = Tensor::from_vector<uint8_t>({0, 128, 255}, {3});
  BOOST_TEST(u.to(DType::f32).to_double_vector()[2] == 255.0);
  BOOST_TEST(Tensor::zeros({3}, DType::bf16).nbytes() == 6u);
  BOOST_CHECK_THROW(dtype_from_name("f8"), Error);
}

BOOST_AUTO_TEST_CASE(allocator_aligns_and_caches) {
  CachingCpuAllocator& a = cpu_allocator();
  size_t before = a.stats().system_allocations;
  for (int i = 0; i < 50; ++i) {
    Tensor t = Tensor::empty({1000 + i % 3}, DType::f32);
    BOOST_TEST(reinterpret_cast<uintptr_t>(t.raw_data()) % 64 == 0u);
  }
  // 50 allocations of nearly one size reuse a handful of cached blocks.
  BOOST_TEST(a.stats().system_allocations - before <= 3u);
  Tensor big = Tensor::empty({1 << 20});
  BOOST_TEST(a.stats().peak_bytes_in_use >= size_t(4) << 20);
}

BOOST_AUTO_TEST_CASE(copy_broadcasts_and_converts) {
  Tensor dst = Tensor::zeros({2, 3}, DType::f64);
  dst.copy_(Tensor::from_vector<float>({1, 2, 3}, {3}));
  std::vector<double> expect{1, 2, 3, 1, 2, 3};
  BOOST_TEST(dst.to_double_vector() == expect, boost::test_tools::per_element());
  Tensor col = dst.slice(1, 1, 2);
  col.fill_(-1);
  BOOST_TEST(dst.to_double_vector()[4] == -1.0);
  BOOST_TEST(dst.to_double_vector()[5] == 3.0);
}

BOOST_AUTO_TEST_CASE(bad_shapes_are_errors) {
  Tensor a = Tensor::zeros({2, 3});
  BOOST_CHECK_THROW(add(a, Tensor::zeros({4})), Error);
  BOOST_CHECK_THROW(matmul(a, Tensor::zeros({2, 3})), Error);
  BOOST_CHECK_THROW(conv2d(Tensor::zeros({1, 2, 4, 4}), Tensor::zeros({3, 5, 3, 3}), Tensor(), 1), Error);
  BOOST_CHECK_THROW(index_select(a, 0, Tensor::from_vector<int64_t>({2}, {1})), Error);
  BOOST_CHECK_THROW(inverse(Tensor::zeros({2, 2})), Error);
}

BOOST_AUTO_TEST_SUITE_END()
