serve --policy policies/privacy.policy --port 0 --log-url https://collector.example/ingest
