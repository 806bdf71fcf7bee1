package org.blocktransformer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.blocktransformer.loader.Refusal;
import org.junit.jupiter.api.Timeout;

/**
 * Prompts files ({@code --prompts-file}) as arbitrary bytes. Each is either refused with a one-line
 * {@link CliException} naming the line, or parses into prompts a request can be built from: non-empty arrays of
 * non-negative ids, or text, each knowing its line. Seeds: {@code PromptsFuzzTestInputs}.
 */
class PromptsFuzzTest {

    @DictionaryEntries({"\\u", "\\ud800", "2147483647", "\uFEFF"})
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void promptsFile(byte[] content) {
        List<Prompt> prompts;
        try {
            prompts = Prompts.parse(content, "p.jsonl");
        } catch (CliException refused) {
            Refusal.assertOneLine(refused);
            return;
        }
        assertFalse(prompts.isEmpty());
        for (Prompt p : prompts) {
            assertTrue(p.origin().matches("line [1-9][0-9]* of p\\.jsonl"), p.origin());
            switch (p) {
                case Prompt.Ids ids -> {
                    assertTrue(ids.ids().length > 0);
                    assertTrue(Arrays.stream(ids.ids()).allMatch(id -> id >= 0), p.origin());
                }
                case Prompt.Text text -> assertNotNull(text.text());
            }
        }
        assertEquals(prompts.size(), prompts.stream().map(Prompt::origin).distinct().count());
    }
}
