"""One package per API family (WeChat Official Accounts, Tencent Cloud IM) behind wxtui.family."""
