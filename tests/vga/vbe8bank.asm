; A Bochs VBE mode at 640x480, 8 bits per pixel, drawn through the 64 KiB
; banked window at 0xA0000 (the dispi BANK register picks which 64 KiB of
; video memory it shows): pixel (x, y) gets colour (x + 2y) & 0xff, and
; the DAC is loaded with dac_rule.
%include "vga_lib.inc"

%macro DISPI 2
    mov dx, 0x1ce
    mov ax, %1
    out dx, ax
    mov dx, 0x1cf
    mov ax, %2
    out dx, ax
%endmacro

start:
    DISPI 1, 640
    DISPI 2, 480
    DISPI 3, 8
    DISPI 4, 0x01              ; ENABLED, no LFB: banked window only
    call dac_load
    xor esi, esi               ; linear offset in video memory
    xor ebp, ebp               ; the bank shown (0 after the mode set)
    xor ebx, ebx
.row:
    xor ecx, ecx
.col:
    mov edi, esi
    shr edi, 16
    cmp edi, ebp
    je .same
    mov ebp, edi
    DISPI 5, bp                ; BANK
.same:
    lea eax, [ecx + ebx * 2]
    mov edi, esi
    and edi, 0xffff
    mov [0xa0000 + edi], al
    inc esi
    inc ecx
    cmp ecx, 640
    jb .col
    inc ebx
    cmp ebx, 480
    jb .row
    DONE

load_end:
bss_end:
