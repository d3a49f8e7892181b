test --format junit tests/cli/failing.test | sed -E 's/time="[0-9.]+"/time="T"/g'
