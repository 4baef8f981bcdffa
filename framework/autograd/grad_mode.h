// Grad mode: whether ops record autograd nodes on this thread.
#pragma once

namespace ft {

bool grad_enabled();
void set_grad_enabled(bool enabled);

// Disables recording for its scope (evaluation, sampling, optimizer updates, backward).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ft
