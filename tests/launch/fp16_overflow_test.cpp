// The fp16 loss scaler backs off on an injected overflow, that step leaves the
// weights untouched on every rank, and training then goes on.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/core.h>

#include "framework/dist/communicator.h"
#include "launch/trainer.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/test_data.h"

using namespace ft;
using namespace ft::launch;

namespace {

std::filesystem::path fashion_test_set(const std::filesystem::path& dir) {
  const char* binary = std::getenv("FLOWTRAIN_BINARY");
  BOOST_TEST_REQUIRE(binary != nullptr, "FLOWTRAIN_BINARY is not set (run through ctest)");
  const std::string fashion = testing::fashion_mnist_dir().string();
  BOOST_TEST_REQUIRE(!fashion.empty(), "FLOWTRAIN_FASHION_MNIST is not set (run through ctest)");
  std::string command = fmt::format("{} data convert --from idx {}/t10k-images-idx3-ubyte.gz "
                                    "{}/t10k-labels-idx1-ubyte.gz --out {} --shards 2 > /dev/null",
                                    binary, fashion, fashion, dir.string());
  BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0, command);
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fp16_loss_scaling)

BOOST_AUTO_TEST_CASE(injected_overflow_skips_the_step_and_backs_off) {
  testing::ScratchDir scratch("fp16");
  std::filesystem::path data = fashion_test_set(scratch / "data");
  Config config = Config::parse(
      "[model]\nkind = \"glow\"\nchannels = 1\nimage_size = 28\nlevels = 2\ndepth = 2\nwidth = 8\n"
      "[train]\nsteps = 6\nglobal_batch = 8\nprecision = \"fp16\"\n[optim]\nname = \"adam\"\nschedule = \"constant\"\n",
      "fp16-test", {"data.train=" + data.string()});
  TrainerOptions options;
  options.resume = "never";
  Trainer trainer(config, scratch / "run", dist::make_mpi_communicator(), options);
  trainer.gradient_hook = [](int64_t step, Tensor& gradients) {
    if (step == 2) gradients.slice(0, 0, 1).fill_(INFINITY);  // one overflowing element is enough
  };
  BOOST_TEST(!trainer.train_step().skipped);
  BOOST_TEST(!trainer.train_step().skipped);
  double scale_before = trainer.loss_scale();
  BOOST_TEST(scale_before == 65536.0);
  Tensor before = trainer.reducer().parameter_arena().clone();
  StepResult overflow = trainer.train_step();
  BOOST_TEST(overflow.skipped);
  BOOST_TEST(trainer.loss_scale() == scale_before / 2);
  BOOST_TEST(trainer.progress().skipped_steps == 1);
  std::vector<float> a = before.to_vector<float>(), b = trainer.reducer().parameter_arena().to_vector<float>();
  BOOST_TEST(a == b, boost::test_tools::per_element());  // the overflowing step changed nothing
  StepResult next = trainer.train_step();
  BOOST_TEST(!next.skipped);
  BOOST_TEST(std::isfinite(next.loss));
  BOOST_TEST(trainer.reducer().parameter_arena().to_vector<float>() != b);
  BOOST_TEST(trainer.progress().consecutive_skips == 0);
}

BOOST_AUTO_TEST_SUITE_END()
