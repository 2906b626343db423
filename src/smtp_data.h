/* smtp_data.h - being written this session */
