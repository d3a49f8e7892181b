help nosuch
