// Reads records back from a real Kafka topic in tests.
#ifndef MARKETDATA_TESTS_SUPPORT_KAFKA_READER_H_
#define MARKETDATA_TESTS_SUPPORT_KAFKA_READER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace marketdata::testing {

struct Record {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
  int partition = -1;
};

// Reads `topic` from the beginning until `count` records arrived or `timeout` passed.
std::vector<Record> ReadRecords(const std::string& bootstrap, const std::string& topic,
                                size_t count, absl::Duration timeout);

}  // namespace marketdata::testing

#endif  // MARKETDATA_TESTS_SUPPORT_KAFKA_READER_H_
