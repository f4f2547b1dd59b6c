#include "util/anon_memory.h"

#include <sys/mman.h>

#include <new>

namespace ka {

AnonMemory::AnonMemory(size_t size) : size_(size) {
  if (size == 0) return;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
}

AnonMemory::~AnonMemory() {
  if (data_) ::munmap(data_, size_);
}

}  // namespace ka
