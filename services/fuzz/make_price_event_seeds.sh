#!/usr/bin/env bash
# Writes the seed corpus of price_event_fuzzer: PriceEvents in protobuf text format, encoded with
# protoc, each behind the content-type selector byte ("0": application/x-protobuf, "1": no
# header, "2": application/json). Run from anywhere; rewrites corpus/price_event_fuzzer/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(cd "$here/../.." && pwd -P)"
out="$here/corpus/price_event_fuzzer"
mkdir -p "$out"

seed() {  # seed NAME SELECTOR TEXT
  local name=$1 selector=$2 text=$3
  { printf '%s' "$selector"
    printf '%s\n' "$text" | protoc -I"$root" -I/usr/include \
      --encode=marketdata.v1.PriceEvent proto/marketdata/v1/events.proto; } >"$out/$name"
}

cd "$root"
seed valid 0 'symbol: "AAPL" price: 181.27 timestamp { seconds: 1767139200 nanos: 120391000 }
provider: "test" raw_response_id: 41 price_point_id: 42'
seed valid_no_header 1 'symbol: "BRK.B" price: 412.5 timestamp { seconds: 1700000000 }
provider: "alpha_vantage" raw_response_id: 7 price_point_id: 7'
seed valid_symbols 0 'symbol: "EURUSD=X" price: 1.0842 timestamp { seconds: 1767139201 nanos: 999999999 }
provider: "yfinance" raw_response_id: 9007199254740993 price_point_id: 9223372036854775807'
seed index_symbol 0 'symbol: "^GSPC" price: 4.9e-324 timestamp { seconds: 1 }
provider: "finnhub" price_point_id: 1'
seed lower_case_symbol 0 'symbol: "aapl" price: 181.27 timestamp { seconds: 1767139200 }
price_point_id: 3'
seed future 0 'symbol: "MSFT" price: 420 timestamp { seconds: 253402300799 nanos: 999999999 }
price_point_id: 4'
seed bad_nanos 0 'symbol: "MSFT" price: 420 timestamp { seconds: 1767139200 nanos: -1 }
price_point_id: 5'
seed no_price_point 0 'symbol: "MSFT" price: 420 timestamp { seconds: 1767139200 }'
seed json_header 2 'symbol: "AAPL" price: 181.27 timestamp { seconds: 1767139200 } price_point_id: 6'
