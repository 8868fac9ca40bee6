// One descriptor held back for the moment otpd has no other: let go for
// the time of one accept, so that a client is told otpd is out of
// descriptors instead of waiting in the backlog until it gives up, then
// taken back (the pattern of libev's and nginx's users).
#pragma once

namespace otpd::control {

class DescriptorReserve {
 public:
  DescriptorReserve() { take(); }
  ~DescriptorReserve() { release(); }
  DescriptorReserve(const DescriptorReserve&) = delete;
  DescriptorReserve& operator=(const DescriptorReserve&) = delete;

  bool held() const { return fd_ >= 0; }
  // Frees the descriptor for the caller's next one; false when none was held.
  bool release();
  // Takes a descriptor back unless one is held; false when none is free.
  bool take();

 private:
  int fd_ = -1;
};

}  // namespace otpd::control
