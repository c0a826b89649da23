#include "common/client_text.h"

#include <gtest/gtest.h>

#include <string>

namespace parzen {
namespace {

TEST(EscapeForLogTest, PrintableTextAndUnicodePassUnchanged) {
  EXPECT_EQ(EscapeForLog("worker-7 lr=0.01"), "worker-7 lr=0.01");
  EXPECT_EQ(EscapeForLog("résumé-学習-µ"), "résumé-学習-µ");
}

TEST(EscapeForLogTest, ControlsAndInvalidBytesBecomeHexEscapes) {
  EXPECT_EQ(EscapeForLog("a\nb"), "a\\x0ab");
  EXPECT_EQ(EscapeForLog("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(EscapeForLog(std::string("nul\0end", 7)), "nul\\x00end");
  EXPECT_EQ(EscapeForLog("del\x7f"), "del\\x7f");
  EXPECT_EQ(EscapeForLog("bad\xff\xfe"), "bad\\xff\\xfe");
  // A truncated sequence: each byte escaped, none swallowed.
  EXPECT_EQ(EscapeForLog("\xe2\x80"), "\\xe2\\x80");
}

TEST(EscapeForLogTest, BackslashesAreDoubledSoEscapesCannotBeForged) {
  EXPECT_EQ(EscapeForLog("a\\x0ab"), "a\\\\x0ab");
  EXPECT_NE(EscapeForLog("a\\x0ab"), EscapeForLog("a\nb"));
}

TEST(EscapeForLogTest, UnicodeControlsAndFormatCharactersBecomeCodePoints) {
  EXPECT_EQ(EscapeForLog("a\xc2\x85z"), "a\\u{0085}z");         // NEXT LINE
  EXPECT_EQ(EscapeForLog("a\xe2\x80\xa8z"), "a\\u{2028}z");     // LINE SEPARATOR
  EXPECT_EQ(EscapeForLog("gpj.\xe2\x80\xae" "exe"), "gpj.\\u{202e}exe");  // RLO
  EXPECT_EQ(EscapeForLog("zero\xe2\x80\x8bwidth"), "zero\\u{200b}width");
  EXPECT_EQ(EscapeForLog("\xef\xbb\xbf" "bom"), "\\u{feff}bom");
}

TEST(EscapeForLogTest, LongTextStopsAndSaysHowLongItWas) {
  const std::string huge(1 << 20, 'n');
  const std::string shown = EscapeForLog(huge, 16);
  EXPECT_EQ(shown, std::string(16, 'n') + "... (1048576 bytes)");
  // Escapes count against the bound by the input bytes they stand for,
  // and never split a character.
  const std::string newlines(100, '\n');
  EXPECT_LT(EscapeForLog(newlines, 10).size(), 100u);
  EXPECT_EQ(EscapeForLog("学習", 2), "学... (6 bytes)");
}

TEST(FindUnshowableTest, FindsTheFirstForbiddenCharacterByByteOffset) {
  EXPECT_EQ(FindUnshowable("mnist-lr_0.1 résumé 学習"), std::string_view::npos);
  EXPECT_EQ(FindUnshowable("ab\ncd"), 2u);
  EXPECT_EQ(FindUnshowable("ab\x7f"), 2u);
  EXPECT_EQ(FindUnshowable("x\xc2\x85"), 1u);
  EXPECT_EQ(FindUnshowable("xy\xe2\x80\xae"), 2u);
  EXPECT_EQ(FindUnshowable("iso\xe2\x81\xa6"), 3u);
  EXPECT_EQ(FindUnshowable("tag\xf3\xa0\x80\x81"), 3u);  // U+E0001 LANGUAGE TAG
  EXPECT_EQ(FindUnshowable("bad\xff"), 3u);
  EXPECT_EQ(FindUnshowable(""), std::string_view::npos);
}

}  // namespace
}  // namespace parzen
