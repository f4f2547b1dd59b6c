#include "netboot/pe_signature.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/fake_env.h"

namespace ka::netboot {
namespace {

void Put16(std::string& d, size_t at, uint16_t v) {
  d[at] = static_cast<char>(v & 0xff);
  d[at + 1] = static_cast<char>(v >> 8);
}
void Put32(std::string& d, size_t at, uint32_t v) {
  Put16(d, at, static_cast<uint16_t>(v & 0xffff));
  Put16(d, at + 2, static_cast<uint16_t>(v >> 16));
}

constexpr size_t kPe = 0x80;
constexpr size_t kOpt = kPe + 24;
constexpr size_t kCertDir = kOpt + 112 + 4 * 8;  // PE32+

// A minimal PE32+ image of `size` bytes, 16 data directories, no certificate table.
std::string Image(size_t size = 0x400) {
  std::string d(size, '\0');
  d[0] = 'M';
  d[1] = 'Z';
  Put32(d, 0x3c, kPe);
  d.replace(kPe, 4, std::string("PE\0\0", 4));
  Put16(d, kPe + 4, 0x8664);
  Put16(d, kPe + 20, 240);  // SizeOfOptionalHeader of PE32+ with 16 directories
  Put16(d, kOpt, 0x20b);
  Put32(d, kOpt + 108, 16);
  return d;
}

// Appends one WIN_CERTIFICATE (revision 2, PKCS signed data) of `length` bytes at the
// end and points directory 4 at it.
std::string Signed(std::string d, uint32_t length = 24) {
  const size_t at = d.size();
  d.resize(at + ((length + 7) & ~7u), '\x5a');
  Put32(d, at, length);
  Put16(d, at + 4, 0x0200);
  Put16(d, at + 6, 0x0002);
  Put32(d, kCertDir, static_cast<uint32_t>(at));
  Put32(d, kCertDir + 4, static_cast<uint32_t>(d.size() - at));
  return d;
}

TEST(PeSignature, UnsignedImage) {
  auto info = InspectPeSignature(Image());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->pe32_plus);
  EXPECT_EQ(info->machine, 0x8664);
  EXPECT_FALSE(info->Signed());
  EXPECT_EQ(info->cert_offset, 0u);
}

TEST(PeSignature, SignedImage) {
  const std::string d = Signed(Image());
  auto info = InspectPeSignature(d);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->Signed());
  EXPECT_EQ(info->certificates, 1u);
  EXPECT_EQ(info->cert_offset, 0x400u);
  EXPECT_EQ(info->cert_size, 24u);
}

TEST(PeSignature, TwoCertificatesEachAligned) {
  std::string d = Signed(Image(), 21);  // padded to 24
  const size_t second = d.size();
  d.resize(second + 16, '\0');
  Put32(d, second, 16);
  Put16(d, second + 4, 0x0200);
  Put16(d, second + 6, 0x0002);
  Put32(d, kCertDir + 4, static_cast<uint32_t>(d.size() - 0x400));
  auto info = InspectPeSignature(d);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->certificates, 2u);
}

TEST(PeSignature, Pe32Image) {
  std::string d = Image();
  Put16(d, kPe + 20, 224);
  Put16(d, kOpt, 0x10b);
  Put32(d, kOpt + 92, 16);
  const size_t dir = kOpt + 96 + 4 * 8;
  Put32(d, dir, 0x400);
  Put32(d, dir + 4, 16);
  d.resize(0x410, '\0');
  Put32(d, 0x400, 16);
  Put16(d, 0x404, 0x0200);
  Put16(d, 0x406, 0x0002);
  auto info = InspectPeSignature(d);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->pe32_plus);
  EXPECT_TRUE(info->Signed());
}

TEST(PeSignature, FewDirectoriesMeansUnsigned) {
  std::string d = Image();
  Put32(d, kOpt + 108, 4);  // directories 0..3 only
  auto info = InspectPeSignature(Signed(d));
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->Signed());
}

TEST(PeSignature, RejectsWhatIsNotPe) {
  EXPECT_FALSE(InspectPeSignature("").ok());
  EXPECT_FALSE(InspectPeSignature(std::string(0x100, 'M')).ok());
  std::string d = Image();
  Put32(d, 0x3c, 0xfffffff0);  // PE header beyond the end
  EXPECT_FALSE(InspectPeSignature(d).ok());
  d = Image();
  Put16(d, kOpt, 0x123);
  EXPECT_FALSE(InspectPeSignature(d).ok());
  d = Image();
  Put16(d, kPe + 20, 0xffff);  // optional header past the end
  EXPECT_FALSE(InspectPeSignature(d).ok());
}

TEST(PeSignature, RejectsACertificateTableOutsideTheFile) {
  std::string d = Signed(Image());
  Put32(d, kCertDir + 4, 0xfffffff0);
  EXPECT_FALSE(InspectPeSignature(d).ok());
  d = Signed(Image());
  Put32(d, kCertDir, 0xffffff00);
  EXPECT_FALSE(InspectPeSignature(d).ok());
  // The signature bytes cut off, the directory entry left as it was.
  d = Signed(Image(), 64);
  d.resize(0x410);
  EXPECT_FALSE(InspectPeSignature(d).ok());
}

TEST(PeSignature, RejectsBadCertificateEntries) {
  std::string d = Signed(Image());
  Put32(d, 0x400, 4);  // shorter than its own header
  EXPECT_FALSE(InspectPeSignature(d).ok());
  d = Signed(Image());
  Put32(d, 0x400, 4096);  // longer than the table
  EXPECT_FALSE(InspectPeSignature(d).ok());
  d = Signed(Image());
  Put16(d, 0x406, 0x0001);  // X.509, not Authenticode
  EXPECT_FALSE(InspectPeSignature(d).ok());
}

TEST(PeSignature, RequireSignedPeNamesTheFileAndTheWayOut) {
  os::FakeEnv env;
  env.AddFile("/k/signed", Signed(Image()));
  env.AddFile("/k/unsigned", Image());
  env.AddFile("/k/text", "hello");
  EXPECT_TRUE(RequireSignedPe(env, "/k/signed", "the stage1 kernel").ok());
  Status s = RequireSignedPe(env, "/k/unsigned", "the stage1 kernel");
  EXPECT_EQ(s.code(), Status::Code::kInvalid);
  EXPECT_NE(s.message().find("the stage1 kernel /k/unsigned carries no Authenticode signature"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("without --secure-boot"), std::string::npos);
  EXPECT_FALSE(RequireSignedPe(env, "/k/text", "the stage1 kernel").ok());
  EXPECT_FALSE(RequireSignedPe(env, "/k/missing", "the stage1 kernel").ok());
}

}  // namespace
}  // namespace ka::netboot
