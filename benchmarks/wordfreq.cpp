// Benchmark: word frequency, the C++ baseline for wordfreq.kl (std::unordered_map, g++ -O2):
// reads the whole file, splits it at spaces and line breaks by hand, counts, sorts the entries.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

int main(int argc, char **argv) {
    std::string text = "the cat and the hat\nand the bat sat\non the mat with the cat\n";
    if (argc > 1) {
        std::ifstream file(argv[1], std::ios::binary);
        std::stringstream buffer;
        buffer << file.rdbuf();
        text = buffer.str();
    }
    std::unordered_map<std::string, long> counts;
    size_t start = 0;
    for (size_t i = 0; i <= text.size(); i++) {
        if (i == text.size() || text[i] == ' ' || text[i] == '\n') {
            if (i > start) {
                counts[text.substr(start, i - start)] += 1;
            }
            start = i + 1;
        }
    }
    std::vector<std::pair<std::string, long>> entries(counts.begin(), counts.end());
    std::sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (size_t i = 0; i < entries.size() && i < 10; i++) {
        std::printf("%s %ld\n", entries[i].first.c_str(), entries[i].second);
    }
    return 0;
}
