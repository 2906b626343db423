/* session_api.c - being written this session */
