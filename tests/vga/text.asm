; 80x25 text (mode 03h registers, 9-dot characters) with a font the
; program makes itself and loads into plane 2: glyph line r of character
; c is (37c ^ 29r) & 0xff.  Cell i holds character 7i & 0xff with
; attribute (13i + 5) & 0xff, written to 0xB8000 with odd/even
; addressing.  Blinking is enabled (AR10 bit 3) and the cursor sits on
; cell 81, lines 14-15.
%include "vga_lib.inc"

start:
    mov esi, text_regs
    call set_regs
    call dac_load
    ; Plane 2 alone, sequential addressing: the font.
    OUTB 0x3c4, 2
    OUTB 0x3c5, 0x04
    OUTB 0x3c4, 4
    OUTB 0x3c5, 0x06
    OUTB 0x3ce, 4
    OUTB 0x3cf, 0x02
    OUTB 0x3ce, 5
    OUTB 0x3cf, 0x00
    OUTB 0x3ce, 6
    OUTB 0x3cf, 0x04
    xor ecx, ecx               ; character
.char:
    xor ebx, ebx               ; line
.line:
    imul eax, ecx, 37
    imul edx, ebx, 29
    xor eax, edx
    mov edi, ecx
    shl edi, 5
    mov [0xa0000 + edi + ebx], al
    inc ebx
    cmp ebx, 32
    jb .line
    inc ecx
    cmp ecx, 256
    jb .char
    ; Back to planes 0 and 1, odd/even, the window at 0xB8000.
    OUTB 0x3c4, 2
    OUTB 0x3c5, 0x03
    OUTB 0x3c4, 4
    OUTB 0x3c5, 0x02
    OUTB 0x3ce, 4
    OUTB 0x3cf, 0x00
    OUTB 0x3ce, 5
    OUTB 0x3cf, 0x10
    OUTB 0x3ce, 6
    OUTB 0x3cf, 0x0e
    xor ecx, ecx
.cell:
    imul eax, ecx, 7
    mov [0xb8000 + ecx * 2], al
    imul eax, ecx, 13
    add eax, 5
    mov [0xb8001 + ecx * 2], al
    inc ecx
    cmp ecx, 2000
    jb .cell
    ; Odd/even reads give back what was stored.
    cmp byte [0xb8000 + 2 * 3], 21
    jne fail
    cmp byte [0xb8001 + 2 * 3], 44
    jne fail
    call screen_on
    DONE
fail:
    mov al, 1
    out 0xf4, al
    hlt

; Mode 03h register values (IBM VGA Technical Reference, BIOS mode 03h),
; with the cursor on lines 14-15 of cell 81 and an identity palette.
text_regs:
    db 0x67
    db 0x03, 0x00, 0x03, 0x00, 0x02
    db 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0e, 0x0f
    db 0x00, 0x00, 0x00, 0x51, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff
    db 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff
    db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
    db 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
    db 0x0c, 0x00, 0x0f, 0x08, 0x00

load_end:
bss_end:
