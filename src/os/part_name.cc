#include "os/part_name.h"

#include <cctype>

namespace ka::os {

std::string PartitionNodeName(const std::string& disk, int number) {
  bool digit_end = !disk.empty() && std::isdigit(static_cast<unsigned char>(disk.back()));
  return disk + (digit_end ? "p" : "") + std::to_string(number);
}

}  // namespace ka::os
