// Dynamic loss scaling: GradScaler's update rule, step by step.
#include <boost/test/unit_test.hpp>
#include <limits>

#include "framework/core/check.h"
#include "framework/precision/loss_scaler.h"

using ft::precision::LossScaler;

BOOST_AUTO_TEST_SUITE(loss_scaler)

BOOST_AUTO_TEST_CASE(defaults_match_grad_scaler) {
  LossScaler scaler;
  BOOST_TEST(scaler.scale() == 65536.0);
  BOOST_TEST(scaler.good_steps() == 0);
}

BOOST_AUTO_TEST_CASE(overflow_backs_off_and_restarts_the_count) {
  LossScaler scaler(1024.0, 2.0, 0.5, 4);
  scaler.update(false);
  scaler.update(false);
  BOOST_TEST(scaler.good_steps() == 2);
  scaler.update(true);
  BOOST_TEST(scaler.scale() == 512.0);
  BOOST_TEST(scaler.good_steps() == 0);
  scaler.update(true);
  BOOST_TEST(scaler.scale() == 256.0);
}

BOOST_AUTO_TEST_CASE(grows_after_the_interval_of_good_steps) {
  LossScaler scaler(1024.0, 2.0, 0.5, 3);
  scaler.update(false);
  scaler.update(false);
  BOOST_TEST(scaler.scale() == 1024.0);
  scaler.update(false);
  BOOST_TEST(scaler.scale() == 2048.0);
  BOOST_TEST(scaler.good_steps() == 0);
  for (int i = 0; i < 3; ++i) scaler.update(false);
  BOOST_TEST(scaler.scale() == 4096.0);
  // An overflow one step before growth: no growth, and the count starts again.
  scaler.update(false);
  scaler.update(false);
  scaler.update(true);
  scaler.update(false);
  scaler.update(false);
  BOOST_TEST(scaler.scale() == 2048.0);
}

BOOST_AUTO_TEST_CASE(never_grows_to_infinity) {
  LossScaler scaler(std::numeric_limits<double>::max(), 2.0, 0.5, 1);
  scaler.update(false);
  BOOST_TEST(scaler.scale() == std::numeric_limits<double>::max());
  BOOST_TEST(scaler.good_steps() == 0);
}

BOOST_AUTO_TEST_CASE(state_round_trips) {
  LossScaler a(65536.0, 2.0, 0.5, 2000);
  a.update(true);
  for (int i = 0; i < 17; ++i) a.update(false);
  LossScaler b;
  b.set_state(a.scale(), a.good_steps());
  BOOST_TEST(b.scale() == 32768.0);
  BOOST_TEST(b.good_steps() == 17);
  // Both continue identically.
  for (int i = 0; i < 1983; ++i) {
    a.update(false);
    b.update(false);
  }
  BOOST_TEST(a.scale() == 65536.0);
  BOOST_TEST(b.scale() == a.scale());
  BOOST_TEST(b.good_steps() == a.good_steps());
  BOOST_CHECK_THROW(b.set_state(0.0, 0), ft::Error);
  BOOST_CHECK_THROW(b.set_state(1.0, 2000), ft::Error);
  BOOST_CHECK_THROW(LossScaler(1.0, 0.5), ft::Error);
}

BOOST_AUTO_TEST_SUITE_END()
