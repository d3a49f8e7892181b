serve --port 8181
