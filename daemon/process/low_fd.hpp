// A descriptor number kept at the bottom of otpd's table for descriptors
// handed to a child at a number of its choosing (ready: {fd: N}). The child
// leaves otpd's shared table by copying every descriptor below the highest
// one it keeps (docs/spawning.md): a pipe end at fd 20000 in a large tree
// would make that spawn copy 20000 entries; at the reserved number it copies
// a handful.
#pragma once

namespace otpd::process {

// Opens the placeholder at the lowest free number. Call it once, early in
// main, before the table fills with sockets and pidfds.
void reserve_low_fd();

// Puts `fd` (kept open) at the reserved number for one spawn and returns
// that number; without a reservation, returns `fd` itself. release_low_fd()
// puts the placeholder back once the child has its copy.
int place_low_fd(int fd);
void release_low_fd();

}  // namespace otpd::process
