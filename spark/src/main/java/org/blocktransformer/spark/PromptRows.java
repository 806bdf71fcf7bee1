package org.blocktransformer.spark;

import java.util.List;
import org.apache.spark.sql.Row;
import org.blocktransformer.loader.tokenizer.BtTokenizer;

/** Reads one row's prompt, seed and row id, with messages that say what is wrong with the row. */
final class PromptRows {

    private PromptRows() {
    }

    /** The row's prompt as token ids: text encoded with {@code tok}, or the array's ids checked. */
    static int[] promptIds(Row row, int index, boolean text, BtTokenizer tok, String col, String model) {
        if (row.isNullAt(index)) {
            throw new BadPromptException("the prompt is null");
        }
        int[] ids;
        if (text) {
            if (tok == null) {
                // Not the row's fault: every text row would fail the same way, so this fails the task always.
                throw new IllegalStateException("prompt column '" + col + "' holds text, but no tokenizer is known"
                        + " for model '" + model + "': set the tokenizer (a tokenizer.json reachable from every"
                        + " executor), or give token ids (an array column)");
            }
            ids = tok.encode(row.getString(index));
            if (ids.length == 0) {
                throw new BadPromptException("the prompt is empty (it encodes to no tokens)");
            }
        } else {
            List<Object> values = row.getList(index);
            if (values.isEmpty()) {
                throw new BadPromptException("the prompt is an empty array of token ids");
            }
            ids = new int[values.size()];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = tokenId(values.get(k), k);
            }
        }
        return ids;
    }

    private static int tokenId(Object v, int k) {
        if (v == null) {
            throw new BadPromptException("token id " + (k + 1) + " of the prompt is null");
        }
        long id = ((Number) v).longValue();
        if (id < 0 || id > Integer.MAX_VALUE) {
            throw new BadPromptException("token id " + id + " (position " + (k + 1) + ") is "
                    + (id < 0 ? "negative" : "too large"));
        }
        return (int) id;
    }

    /** An integral column's value; null is the row's problem. */
    static long longValue(Row row, int index, String what, String col) {
        if (row.isNullAt(index)) {
            throw new BadPromptException(what + " '" + col + "' is null");
        }
        return ((Number) row.get(index)).longValue();
    }

    /**
     * Names a row for an error message: its row id when there is one, and always its partition and position there
     * with the start of its prompt, so it can be found in the input.
     */
    static String label(Row row, int promptIndex, int rowIdIndex, String rowIdCol, int partition, int position) {
        StringBuilder sb = new StringBuilder("row ");
        if (rowIdIndex >= 0 && !row.isNullAt(rowIdIndex)) {
            sb.append(rowIdCol).append('=').append(row.get(rowIdIndex)).append(" (");
        } else {
            sb.append("(");
        }
        sb.append("partition ").append(partition).append(", row ").append(position).append(" of it; prompt ")
                .append(preview(row, promptIndex)).append(')');
        return sb.toString();
    }

    private static String preview(Row row, int index) {
        if (row.isNullAt(index)) {
            return "null";
        }
        Object v = row.get(index);
        String s;
        if (v instanceof String text) {
            s = '"' + text.replace("\n", "\\n") + '"';
        } else {
            s = row.getList(index).toString();
        }
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
