#include "control/descriptor_reserve.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace otpd::control {

bool DescriptorReserve::release() {
  if (fd_ < 0) return false;
  ::close(fd_);
  fd_ = -1;
  return true;
}

bool DescriptorReserve::take() {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd_ >= 0;
}

}  // namespace otpd::control
