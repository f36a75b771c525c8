"""Tencent Cloud IM user tags: the client (client.py), the UserSig (usersig.py), the error table
(errors.py), the platform's numbers (limits.py) and an emulator (emulator/). No UI, no database."""
