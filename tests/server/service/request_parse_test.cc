#include "server/service/request_parse.h"

#include <gtest/gtest.h>

#include "parzen/v1/study_service.pb.h"

namespace parzen {
namespace {

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ParseRequestTest, AValidRequestParses) {
  v1::AskRequest ask;
  ask.set_study("mnist");
  ask.set_worker_id("w-1");
  v1::AskRequest parsed;
  ASSERT_TRUE(ParseRequest(ask.SerializeAsString(), &parsed).ok());
  EXPECT_EQ(parsed.study(), "mnist");
  EXPECT_TRUE(ParseRequest("", &parsed).ok());  // every field unset
}

TEST(ParseRequestTest, AStringThatIsNotUtf8IsNamedByItsPath) {
  v1::AskRequest ask;
  auto* param = ask.add_search_space();
  param->set_name("ok");
  std::string bytes = ask.SerializeAsString();
  // Replace the name's bytes with two that are not UTF-8.
  const size_t at = bytes.find("ok");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = '\xff';
  bytes[at + 1] = '\xfe';
  v1::AskRequest parsed;
  const absl::Status s = ParseRequest(bytes, &parsed);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(Message(s),
            "the request is not a valid parzen.v1.AskRequest: 'search_space.name' is a "
            "string field that is not UTF-8");
}

TEST(ParseRequestTest, NestingDeeperThanProtobufAllowsIsSaidSo) {
  v1::SetStudyUserAttrRequest attr;
  google::protobuf::Value* at = attr.mutable_value();
  for (int i = 0; i < 60; ++i) at = at->mutable_list_value()->add_values();
  at->set_bool_value(true);
  v1::SetStudyUserAttrRequest parsed;
  const absl::Status s = ParseRequest(attr.SerializeAsString(), &parsed);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(Message(s).find("nested more than 100 levels deep"), std::string::npos) << s;

  // 40 lists (80 levels) is within the limit.
  v1::SetStudyUserAttrRequest shallow;
  at = shallow.mutable_value();
  for (int i = 0; i < 40; ++i) at = at->mutable_list_value()->add_values();
  EXPECT_TRUE(ParseRequest(shallow.SerializeAsString(), &parsed).ok());
}

TEST(ParseRequestTest, GarbageIsNotTheRequestType) {
  v1::GetStudyRequest parsed;
  for (const std::string& bytes :
       {std::string("\xff\xff\xff\xff", 4), std::string("\x08", 1), std::string("\x0a\x05" "ab", 4)}) {
    const absl::Status s = ParseRequest(bytes, &parsed);
    EXPECT_TRUE(absl::IsInvalidArgument(s));
    EXPECT_NE(Message(s).find("the request is not a parzen.v1.GetStudyRequest"), std::string::npos)
        << s;
  }
}

}  // namespace
}  // namespace parzen
