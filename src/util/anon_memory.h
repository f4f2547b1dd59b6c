// AnonMemory: a large buffer of anonymous memory (mmap). Unlike a
// std::vector it is not zero-filled up front: pages are mapped by the kernel
// on first touch, so making a 128 MiB replay window costs nothing until data
// arrives (32 nodes on one host each zero-filling 128 MiB took seconds of CPU
// before their first heartbeat).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ka {

class AnonMemory {
 public:
  // Throws std::bad_alloc when the mapping fails.
  explicit AnonMemory(size_t size);
  ~AnonMemory();
  AnonMemory(const AnonMemory&) = delete;
  AnonMemory& operator=(const AnonMemory&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ka
