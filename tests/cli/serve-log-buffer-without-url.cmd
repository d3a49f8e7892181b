serve --policy policies/privacy.policy --log-buffer /nonexistent/buffer
