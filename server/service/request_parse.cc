#include "server/service/request_parse.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "common/utf8.h"

namespace parzen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;

// protobuf's own default recursion limit, which the parse enforces.
constexpr int kMaxDepth = 100;

// Why the bytes in `in` are not a valid `type`, walking the wire format
// with the descriptor: the first string field that is not UTF-8, or
// nesting past kMaxDepth. Empty when neither is found (the bytes are then
// malformed in some other way).
std::string Diagnose(CodedInputStream* in, const Descriptor& type, int depth,
                     const std::string& path) {
  if (depth > kMaxDepth) {
    return "it is nested more than " + std::to_string(kMaxDepth) + " levels deep";
  }
  for (uint32_t tag = in->ReadTag(); tag != 0; tag = in->ReadTag()) {
    const FieldDescriptor* field = type.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool delimited =
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (field == nullptr || !delimited ||
        (field->type() != FieldDescriptor::TYPE_STRING &&
         field->type() != FieldDescriptor::TYPE_MESSAGE)) {
      if (!WireFormatLite::SkipField(in, tag)) return "";
      continue;
    }
    uint32_t length = 0;
    if (!in->ReadVarint32(&length)) return "";
    const std::string name = path + field->name();
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      std::string value;
      if (!in->ReadString(&value, static_cast<int>(length))) return "";
      if (!IsValidUtf8(value)) return "'" + name + "' is a string field that is not UTF-8";
      continue;
    }
    const CodedInputStream::Limit limit = in->PushLimit(static_cast<int>(length));
    std::string why = Diagnose(in, *field->message_type(), depth + 1, name + ".");
    if (!why.empty()) return why;
    in->PopLimit(limit);
  }
  return "";
}

}  // namespace

absl::Status ParseRequest(std::string_view bytes, google::protobuf::Message* request) {
  if (request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::OkStatus();
  }
  const std::string type = request->GetDescriptor()->full_name();
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  const std::string why = Diagnose(&in, *request->GetDescriptor(), 0, "");
  if (!why.empty()) {
    return absl::InvalidArgumentError("the request is not a valid " + type + ": " + why);
  }
  return absl::InvalidArgumentError("the request is not a " + type +
                                    ": its bytes do not parse as one (a client built from "
                                    "another .proto, or a corrupted message?)");
}

}  // namespace parzen
