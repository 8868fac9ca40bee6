#include "output/line_ring.hpp"

namespace otpd::output {

void LineRing::push(OutputLine line) {
  ++pushed_;
  if (capacity_ == 0) return;
  if (lines_.size() < capacity_) {
    lines_.push_back(std::move(line));
    return;
  }
  // Assigning into the old slot reuses its string's capacity.
  OutputLine& slot = lines_[oldest_];
  slot.time_us = line.time_us;
  slot.pid = line.pid;
  slot.stream = line.stream;
  slot.continued = line.continued;
  slot.text.assign(line.text);
  oldest_ = (oldest_ + 1) % capacity_;
}

}  // namespace otpd::output
