/* smtp_data.c - being written this session */
