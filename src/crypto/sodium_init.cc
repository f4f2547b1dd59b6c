#include "crypto/sodium_init.h"

#include <sodium.h>

#include <stdexcept>

namespace ka::crypto {

void InitSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace ka::crypto
